"""Handlers imported as in Lambda (LAMBDA_TASK_ROOT set, so tracing is on), each in a fresh interpreter: what made
cold starts slow stays out (`make bench` measures them), and AWS calls are still traced. And what is shared to save
work in a cold start is shared safely."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from amends import wiring
from amends_local import bench

FUNCTIONS = bench.functions()

# Each was a large part of a cold start, and none is needed at run time.
AVOIDED = (
    "aws_lambda_powertools.event_handler.openapi.models",  # OpenAPI as pydantic models: the docs generator's business
    "aws_lambda_powertools.utilities.parser",  # the batch utility's type hints, when pydantic was imported first
    "sqlite3",  # the X-Ray SDK patching every library it knows, not only botocore
    "email_validator",  # compiles regular expressions over all of Unicode: the email check is the domain model's own
)
# What one function needs and another does not: each API builds only the models it serves; idempotency is loaded
# only where a route or record is made idempotent.
NOT_HERE = {
    "PublicApiFunction": ("amends.api.schemas.staff",),
    "StaffApiFunction": ("amends.api.schemas.public", "aws_lambda_powertools.utilities.idempotency"),
    "LifecycleFunction": ("amends.api", "aws_lambda_powertools.utilities.idempotency"),
    "OutboxPublisherFunction": ("amends.api", "aws_lambda_powertools.utilities.idempotency"),
    "OutboxSweeperFunction": ("amends.api", "aws_lambda_powertools.utilities.idempotency"),
    "NotificationsFunction": ("amends.api",),
    "LifecycleCallbackFunction": ("amends.api", "aws_lambda_powertools.utilities.idempotency"),
    "TimerSweepFunction": ("amends.api", "aws_lambda_powertools.utilities.idempotency"),
    "EmailIngestFunction": ("amends.api", "aws_lambda_powertools.utilities.idempotency"),
    "MailFeedbackFunction": ("amends.api",),
}


@pytest.mark.parametrize("logical_id", list(FUNCTIONS))
def test_a_handler_imports_without_what_slowed_cold_starts(logical_id: str) -> None:
    fn = FUNCTIONS[logical_id]
    script = (f"import sys\nsys.path.insert(0, {str(bench.ROOT / fn.code_uri)!r})\nimport app\n"
              f"print(json.dumps([m for m in {AVOIDED + NOT_HERE[logical_id]!r} if m in sys.modules]))\n"
              # pydantic looks for plugins in every installed distribution's entry points unless told there are none
              f"from pydantic.plugin import _loader\nprint(json.dumps(_loader._plugins))")
    out = subprocess.run([sys.executable, "-c", "import json\n" + script], capture_output=True, text=True,
                         env=bench.lambda_environment(fn.name, fn.environment), check=True)
    loaded, plugins = map(json.loads, out.stdout.splitlines()[-2:])
    assert loaded == []
    assert plugins is None  # never looked for


def test_aws_calls_are_traced_as_subsegments_in_lambda() -> None:
    fn = FUNCTIONS["PublicApiFunction"]
    capture = """import app
from aws_xray_sdk.core import xray_recorder

class Daemon:  # stands in for the X-Ray daemon: keeps what the SDK sends it
    sent = []
    def send_entity(self, entity): self.sent.append(entity)
    def set_daemon_address(self, address): pass

xray_recorder.emitter = Daemon()"""
    with bench.stub_aws() as endpoint:
        script = bench.probe_script(capture, bench.ROOT / fn.code_uri,
                                    bench.ROOT / "events" / bench.FIRST_REQUESTS[fn.logical_id])
        script += "\nprint('TRACED', json.dumps([[e.name, e.namespace] for e in Daemon.sent]))"
        env = bench.lambda_environment(fn.name, {**fn.environment, "AWS_ENDPOINT_URL": endpoint})
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    traced = json.loads(next(line for line in out.stdout.splitlines() if line.startswith("TRACED "))[7:])
    assert ["## lambda_handler", "local"] in traced
    assert traced.count(["dynamodb", "aws"]) == 3  # idempotency record, the filing, the record's completion


def test_idempotent_functions_share_the_dynamodb_client_but_not_a_store(monkeypatch: pytest.MonkeyPatch) -> None:
    # Powertools configures a store once, for the first function it guards: sharing one, a second idempotent function
    # in the same process would look for the first one's key, find none, and skip its check.
    env = {"TABLE_NAME": "cases", "EVENT_BUS_NAME": "bus", "IDEMPOTENCY_TABLE_NAME": "idempotency",
           "AWS_DEFAULT_REGION": "eu-west-2"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    first, second = wiring.idempotency_store(), wiring.idempotency_store()
    assert first is not second
    assert first.client is second.client is wiring.dynamodb()
