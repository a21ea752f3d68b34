"""Execution environments: each function runs in worker processes of its own, as in Lambda.

The registry alone, on the fixture template (no emulator is needed: handlers that call AWS are not invoked here).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from amends_local.clock import ENV_VAR, RuntimeClock
from amends_local.lambdas import FunctionError, FunctionRegistry
from amends_local.template import Template

from .conftest import FIXTURES

ENDPOINTS = {"dynamodb_endpoint": "http://127.0.0.1:9", "moto_endpoint": "http://127.0.0.1:9"}


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    template = Template(FIXTURES / "template.yaml", queue_endpoint="http://127.0.0.1:9")
    functions = FunctionRegistry(template, root=FIXTURES, clock=RuntimeClock(None),
                                 log_dir=tmp_path_factory.mktemp("logs"))
    functions.start(**ENDPOINTS)
    functions.wait_ready()
    yield functions
    functions.stop()


def at_once(registry, *calls):
    """Invoke in parallel; results (or the exceptions raised) in order."""
    def run(call):
        try:
            return registry.invoke(*call)
        except Exception as error:  # noqa: BLE001 - returned for the test to look at
            return error

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = []
        for call in calls:
            futures.append(pool.submit(run, call))
            time.sleep(0.1)  # in this order
        return [f.result() for f in futures]


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")  # an orphan that exited may linger as a zombie where nothing reaps it
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def test_a_log_line_names_the_function_that_wrote_it(registry) -> None:
    markers = {}
    for _ in range(3):
        slow, quick = uuid.uuid4().hex, uuid.uuid4().hex
        markers |= {slow: "ChattyFunction", quick: "OtherChattyFunction"}
        # The first invocation is still running (its name set, its line not yet written) when the second starts.
        at_once(registry, ("ChattyFunction", {"marker": slow, "pause": 0.5}),
                ("OtherChattyFunction", {"marker": quick}))
    seen = {}
    for logical_id in ("ChattyFunction", "OtherChattyFunction"):
        for line in registry.log_file(logical_id).read_text().splitlines():
            entry = json.loads(line)
            seen[entry["marker"]] = (logical_id, entry["function_name"])
    assert seen == {marker: (fn, f"amends-{fn}") for marker, fn in markers.items()}


def test_a_function_sees_its_own_variables_and_lambdas_not_another_functions(registry) -> None:
    seen = registry.invoke("SleeperFunction", {"environment": True})["environment"]
    assert seen["SLEEPER_ONLY"] == "mine" and seen["TABLE_NAME"] == "amends-ItemsTable"
    assert "QUEUE_URL" not in seen  # EchoFunction's alone
    assert seen["AWS_LAMBDA_FUNCTION_NAME"] == "amends-SleeperFunction"
    assert seen["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert seen["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/amends-SleeperFunction"
    assert seen["_HANDLER"] == "app.lambda_handler" and seen["LAMBDA_TASK_ROOT"] == str(FIXTURES / "functions/sleeper")
    assert seen["AWS_ENDPOINT_URL_DYNAMODB"] == ENDPOINTS["dynamodb_endpoint"] and seen["TZ"] == ":UTC"
    # Nothing else: the environment is exactly the one the registry composes (LC_CTYPE is Python's own, set by its
    # locale coercion where Lambda's en_US.UTF-8 locale is not installed), plus the clock sent with the invocation.
    assert set(seen) - {"LC_CTYPE"} == set(registry.environment_of("SleeperFunction")) | {ENV_VAR}
    # The fixture template's values stay in its workers (the session's stack may have set a TABLE_NAME of its own here).
    assert "SLEEPER_ONLY" not in os.environ and os.environ.get("TABLE_NAME") != "amends-ItemsTable"


def test_invocations_run_at_once_each_in_its_own_environment_up_to_the_concurrency(registry) -> None:
    at_once(registry, *[("SleeperFunction", {"sleep": 0.5})] * 2)  # two warm environments, however slow a cold start
    assert registry.environment_count("SleeperFunction") == 2
    first, second, third = sorted(
        at_once(registry, *[("SleeperFunction", {"sleep": 1})] * 3), key=lambda r: r["started"]
    )
    assert second["started"] < first["ended"] and first["pid"] != second["pid"]  # at once, two processes
    assert third["started"] >= min(first["ended"], second["ended"]) - 0.05  # ReservedConcurrentExecutions: 2
    earlier = {r["pid"]: r["served"] for r in (first, second)}
    assert third["served"] == earlier[third["pid"]] + 1  # a warm environment, with its own module globals
    assert registry.environment_count("SleeperFunction") == 2


def test_an_invocation_past_the_timeout_fails_and_its_environment_is_replaced(registry) -> None:
    victim = registry.invoke("SleeperFunction", {})["pid"]  # the environment the next invocation reuses
    with pytest.raises(FunctionError, match=r"Task timed out after 2\.00 seconds") as timed_out:
        registry.invoke("SleeperFunction", {"sleep": 5})
    assert timed_out.value.error_type == "Sandbox.Timedout" and not running(victim)
    after = at_once(registry, ("SleeperFunction", {"sleep": 0.5}), ("SleeperFunction", {"sleep": 0.5}))
    assert all(isinstance(r, dict) for r in after), after
    assert victim not in {r["pid"] for r in after} and after[0]["pid"] != after[1]["pid"]


def test_the_clock_offset_reaches_a_warm_environment_when_time_moves(registry) -> None:
    before = registry.invoke("SleeperFunction", {})
    registry.clock.advance(timedelta(hours=1))
    after = registry.invoke("SleeperFunction", {})
    assert after["pid"] == before["pid"] != os.getpid()
    assert float(after["clock_offset"]) == float(before["clock_offset"]) + 3600


def test_errors_keep_the_exception_class_name_message_and_traceback(registry) -> None:
    with pytest.raises(FunctionError, match="order is bad") as rejected:
        registry.invoke("StepFunction", {"order": "bad"})
    assert rejected.value.error_type == "ItemRejected"
    assert 'step/app.py", line' in "".join(rejected.value.stack_trace)
    with pytest.raises(FunctionError, match="Unable to marshal response") as unmarshalled:
        registry.invoke("SleeperFunction", {"answer_a_set": True})
    assert unmarshalled.value.error_type == "Runtime.MarshalError"


def one_function_template(tmp_path: Path, code_uri: str) -> Template:
    (tmp_path / "template.yaml").write_text(textwrap.dedent(f"""\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          OnlyFunction:
            Type: AWS::Serverless::Function
            Properties: {{CodeUri: {code_uri}, Handler: app.lambda_handler, Runtime: python3.13}}
        """))
    return Template(tmp_path / "template.yaml")


def test_an_import_error_stops_the_start_naming_the_function(tmp_path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "app.py").write_text("import no_such_module\n")
    functions = FunctionRegistry(one_function_template(tmp_path, "broken"), root=tmp_path, log_dir=tmp_path)
    functions.start(**ENDPOINTS)
    with pytest.raises(RuntimeError, match="OnlyFunction: Runtime.ImportModuleError: Unable to import module 'app'"):
        functions.wait_ready()


def test_no_worker_outlives_the_runtime_even_killed(tmp_path) -> None:
    template = one_function_template(tmp_path, str(FIXTURES / "functions" / "sleeper"))
    functions = FunctionRegistry(template, root=tmp_path, log_dir=tmp_path)
    functions.start(**ENDPOINTS)
    functions.wait_ready()
    pid = functions.invoke("OnlyFunction", {})["pid"]
    environment = functions.environment_of("OnlyFunction")
    request = {"event": {"sleep": 60}, "context": functions.context(functions.functions["OnlyFunction"]), "env": {}}
    functions.stop()
    assert not running(pid)
    # A runtime killed outright, in the middle of an invocation (no stop()): its worker notices and exits.
    script = textwrap.dedent(f"""
        import json, sys
        from amends_local.environments import Environment
        worker = Environment(name="OnlyFunction", environment=json.loads(sys.argv[1]), code_dir=sys.argv[2], timeout=60,
                             log_file=None, meter=False)
        worker.wait_ready()
        print(worker.process.pid, flush=True)
        worker.invoke(json.loads(sys.argv[3]))
        """)
    runtime = subprocess.Popen(
        [sys.executable, "-c", script, json.dumps(environment), environment["LAMBDA_TASK_ROOT"], json.dumps(request)],
        stdout=subprocess.PIPE, text=True,
    )
    pid = int(runtime.stdout.readline())
    time.sleep(0.3)  # the invocation is under way
    runtime.send_signal(signal.SIGKILL)
    runtime.wait()
    deadline = time.monotonic() + 5
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(pid)
