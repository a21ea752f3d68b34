"""`make test` refuses a pyproject.toml whose dependencies uv.lock does not hold: the Makefile's own lock and
layer-requirements checks (as `make -n test` prints them) run on a copy of the project, unchanged and then with a
dependency added without re-locking. uv works offline here: the added dependency is one the lock already carries (as a
dependency of botocore), so nothing needs the network, and an export from the lock alone (`--frozen`) would not see
the difference."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

UV = ROOT / ".local" / "uv" / "bin" / "uv"


def lock_checks() -> list[str]:
    """The commands of `make test` that compare pyproject.toml, uv.lock and the layer's requirements, printed with
    this project's uv. UV is named on the command line: under `uv run` (as `make test` runs pytest) the environment
    carries UV, the path of the uv that runs it, which the Makefile would otherwise take."""
    printed = subprocess.run(["make", "-n", "test", f"UV={UV}"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    commands = printed.replace("\\\n", " ").splitlines()
    return [c for c in commands if "uv.lock" in c or "requirements.txt" in c]


def run_checks(project: Path) -> list[subprocess.CompletedProcess[str]]:
    env = {**os.environ, "UV_PYTHON": sys.executable, "UV_OFFLINE": "1"}
    return [subprocess.run(["bash", "-c", c], cwd=project, env=env, capture_output=True, text=True, timeout=120)
            for c in lock_checks()]


@pytest.mark.skipif(not UV.exists(), reason="uv is installed into .local/uv by make setup")
def test_a_dependency_added_without_relocking_fails_make_test(tmp_path) -> None:
    assert lock_checks(), "make test has no check of uv.lock against pyproject.toml"
    for name in ("pyproject.toml", "uv.lock", "layers/amends/requirements.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    in_step = run_checks(tmp_path)
    assert [r.returncode for r in in_step] == [0] * len(in_step), [r.stdout + r.stderr for r in in_step]

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('    "boto3>=1.35",\n', '    "boto3>=1.35",\n    "jmespath>=1",\n'))
    assert "jmespath" in pyproject.read_text()
    failed = [r for r in run_checks(tmp_path) if r.returncode != 0]
    assert failed, "a dependency added to pyproject.toml without uv lock passed the checks"
    assert "out of step with pyproject.toml" in failed[0].stdout + failed[0].stderr
