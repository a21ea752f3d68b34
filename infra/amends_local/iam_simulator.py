"""The IAM policy evaluator: @cloud-copilot/iam-simulate, run by Node.js as a child process.

No Python library evaluates IAM policies as AWS does (moto's own check knows only ``StringEquals`` and turns an
Allow whose condition does not match into a Deny; policyuniverse parses policies but does not evaluate requests).
iam-simulate does: every condition operator (``ForAnyValue``/``ForAllValues``, ``...IfExists``), policy variables,
``NotAction``/``NotResource``, resource policies with service principals, KMS's rule that a key policy must allow,
and it checks the action exists and the resource is of a type the action takes (from AWS's Service Authorization
Reference), so a misspelt action in a template fails here rather than silently never matching.

It is installed once per checkout into ``.local/iam-simulate`` from the lockfile beside this module
(``iam_simulate/package-lock.json``, by ``amends_local.npm_packages``), and answers one simulation per
line (``iam_simulate/simulate.mjs``). ``Simulator.evaluate`` is thread-safe; simulations run one at a time.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

from amends_local import npm_packages

SOURCE = Path(__file__).with_name("iam_simulate")
INSTALL_DIR = Path(__file__).resolve().parents[2] / ".local" / "iam-simulate"


class SimulatorUnavailable(RuntimeError):
    """The evaluator cannot run here; the message says why and what to install."""


class Simulator:
    def __init__(self, install_dir: Path = INSTALL_DIR, log_file: Path | None = None) -> None:
        self.install_dir = install_dir
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._next_id = 0

    def start(self) -> None:
        for tool in ("node", "npm"):
            if shutil.which(tool) is None:
                raise SimulatorUnavailable(f"{tool} not found: install Node.js and npm to check IAM permissions")
        self._install()
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115 - the child keeps it
        try:
            self._process = subprocess.Popen(["node", str(SOURCE / "simulate.mjs"), str(self.install_dir)],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        finally:
            if self.log_file:
                log.close()  # type: ignore[union-attr]

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            process.stdin.close()  # type: ignore[union-attr]
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(OSError, ValueError):
            process.stdout.close()  # type: ignore[union-attr]

    def evaluate(self, simulation: dict[str, Any]) -> dict[str, Any]:
        """iam-simulate's answer: {"result", "denials"} or {"error"}."""
        with self._lock:
            process = self._process
            if process is None or process.poll() is not None:
                raise SimulatorUnavailable("the IAM simulator is not running" + (
                    f" (see {self.log_file})" if self.log_file else ""))
            self._next_id += 1
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(json.dumps({"id": self._next_id, "simulation": simulation}).encode() + b"\n")
            process.stdin.flush()
            line = process.stdout.readline()
        if not line:
            raise SimulatorUnavailable("the IAM simulator stopped" + (f" (see {self.log_file})" if self.log_file else ""))
        return json.loads(line)

    def _install(self) -> None:
        try:
            npm_packages.install(SOURCE, self.install_dir)
        except npm_packages.NpmInstallFailed as error:
            raise SimulatorUnavailable(f"the IAM simulator could not be installed: {error}") from None
