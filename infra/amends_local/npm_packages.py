"""The Node.js packages the local stack runs (DynamoDB Local's jar, the IAM policy evaluator), installed with
``npm ci`` from a lockfile committed beside this module: the same versions, checked against the same integrity
hashes, on every machine, and installed again only when the lockfile changes."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

INSTALL_TIMEOUT_SECONDS = 600


class NpmInstallFailed(RuntimeError):
    """The package could not be installed; the message says why."""


def install(source: Path, install_dir: Path) -> None:
    """``npm ci`` of ``source``'s package.json and package-lock.json into ``install_dir``, unless that lockfile is
    what is installed there already. Safe to call from several processes at once (one installs, the others wait)."""
    if shutil.which("npm") is None:
        raise NpmInstallFailed("npm not found: install Node.js and npm")
    install_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256((source / "package-lock.json").read_bytes()).hexdigest()
    stamp = install_dir / ".installed"
    with locked(install_dir / ".lock"):
        if stamp.exists() and stamp.read_text() == digest and (install_dir / "node_modules").is_dir():
            return
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(source / name, install_dir / name)
        try:
            result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=install_dir,
                                    capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise NpmInstallFailed(f"npm ci in {install_dir} took over {INSTALL_TIMEOUT_SECONDS} s") from None
        if result.returncode != 0:
            raise NpmInstallFailed(f"npm ci in {install_dir} failed ({result.stderr.strip()[-2000:] or result.returncode}):"
                                   " check access to the npm registry")
        stamp.write_text(digest)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """One process at a time (parallel test runs share the checkout's .local)."""
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
