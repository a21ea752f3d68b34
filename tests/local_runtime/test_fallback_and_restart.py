"""Where DynamoDB Local cannot run moto's DynamoDB stands in; a persistent stack restarts where it stopped."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from amends_local import dynamodb_local
from amends_local.dynamodb_local import DynamoDBLocal, DynamoDBLocalUnavailable
from amends_local.stack import LocalStack

from .conftest import FIXTURES, aws
from .test_runtime import eventually, item


def test_missing_java_is_reported_with_what_to_install(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(
        dynamodb_local.shutil, "which", lambda tool: None if tool == "java" else f"/usr/bin/{tool}"
    )
    with pytest.raises(DynamoDBLocalUnavailable, match="java not found: install a Java 17"):
        DynamoDBLocal(tmp_path, persist=False).start()


def test_without_dynamodb_local_the_stack_runs_on_motos_dynamodb(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(
        dynamodb_local.shutil, "which", lambda tool: None if tool == "npm" else f"/usr/bin/{tool}"
    )
    with LocalStack(FIXTURES, persist=False, api_port=None, state_dir=tmp_path) as stack:
        notice = capsys.readouterr().err
        assert "DynamoDB Local unavailable (npm not found" in notice and "using moto's DynamoDB" in notice
        assert stack.dynamodb_endpoint == stack.moto_endpoint
        key = f"moto#{uuid.uuid4().hex}"
        aws(stack, "dynamodb").put_item(
            TableName="amends-ItemsTable", Item={"pk": {"S": key}, "kind": {"S": "record"}}
        )
        assert eventually(lambda: item(stack, f"seen#{key}"))["event_name"]["S"] == "INSERT"


def test_a_persistent_stack_keeps_tables_clock_and_stream_position_across_restarts(tmp_path) -> None:
    key = f"kept#{uuid.uuid4().hex}"
    with LocalStack(FIXTURES, persist=True, api_port=None, state_dir=tmp_path) as first:
        assert first.provisioned["ItemsTable"] == "created table amends-ItemsTable"
        aws(first, "dynamodb").put_item(
            TableName="amends-ItemsTable", Item={"pk": {"S": key}, "kind": {"S": "record"}}
        )
        eventually(lambda: item(first, f"seen#{key}"))
        first.wait_until_idle(timeout=20)
        first.clock.advance(__import__("datetime").timedelta(hours=2))
    assert (tmp_path / "dynamodb-data").is_dir() and json.loads((tmp_path / "clock.json").read_text())[
        "offset_seconds"
    ] == 7200
    with LocalStack(FIXTURES, persist=True, api_port=None, state_dir=tmp_path) as second:
        assert second.provisioned["ItemsTable"] == "kept existing table amends-ItemsTable"
        assert second.clock.offset.total_seconds() == 7200
        assert item(second, key) is not None
        time.sleep(1)  # give the stream poller time to (wrongly) replay the record
        second.wait_until_idle(timeout=20)
        assert item(second, f"seen#{key}")["deliveries"]["N"] == "1"


def test_in_ci_the_suite_stops_when_dynamodb_local_cannot_start(tmp_path) -> None:
    """With CI set, a run whose stack fell back to moto's DynamoDB (here: no java and no npm on the PATH) stops with
    the reason and a failing exit code, instead of passing on an engine that is not Amazon's."""
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    probe = "tests/integration/test_case_repository.py::test_unknown_reference"  # any test on the session's stack
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", probe], cwd=ROOT,
                         env={**os.environ, "CI": "1", "PATH": str(tmp_path)}, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "DynamoDB Local could not start" in run.stdout + run.stderr and "passed" not in run.stdout
