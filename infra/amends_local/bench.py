"""``make bench``: what a cold start and one complaint cost. Prints figures; asserts nothing.

1. Cold-start import time of each function's handler module as in Lambda (fresh interpreter each time, median of
   N), as a ratio over the floor (boto3, pydantic's BaseModel and Field, Powertools' Logger and Metrics) measured in the
   same rounds; for the API functions also import + the first request.
2. The AWS calls and DynamoDB capacity units one intake costs: the public API request alone, and the whole
   pipeline it sets off (outbox publisher, lifecycle step, acknowledgement), measured on the local stack with
   DynamoDB Local's ReturnConsumedCapacity.

Only the figures reach the terminal; the local stack's and the handlers' logs go to .local/bench.log.
"""

from __future__ import annotations

import functools
import http.server
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from amends_local.template import REGION

if TYPE_CHECKING:
    from amends_local.template import Function

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("BENCH_RUNS", "9"))
LOG = ROOT / ".local" / "bench.log"
# What any of our functions pays before its own code: the AWS SDK, pydantic, Powertools' logs and metrics. For pydantic
# that is what a model needs (`import pydantic` alone loads almost nothing: it imports its parts on first use).
FLOOR = "import boto3\nfrom pydantic import BaseModel, Field\nfrom aws_lambda_powertools import Logger, Metrics"
TARGETS = {"PublicApiFunction": 1.3, "StaffApiFunction": 1.3}  # × the floor; every other function 1.5
FIRST_REQUESTS = {"PublicApiFunction": "api_file_complaint.json", "StaffApiFunction": "api_staff_list_cases.json"}
_figures: TextIO = sys.stdout  # where the figures go; main() sends everything else (the stack's logs) to a file


def say(*values: Any) -> None:
    """Print a figure (never a log line)."""
    print(*values, file=_figures)


# Runs in a fresh interpreter: the CPU time of importing the handler module and, given an event, of that and its first
# invocation (against a stub endpoint that answers every AWS call). CPU time rather than elapsed time: other work on
# the machine stretches elapsed times several-fold, and the CPU a cold start needs is what Lambda's share of a vCPU
# has to deliver.
PROBE = """\
import json, os, sys, time, types
sys.path.insert(0, {code_dir!r})
sys.modules.update(dict.fromkeys({absent!r}))  # not importable, as in Lambda
started = time.process_time()
{code}
imported = time.process_time()
if {event!r}:
    event = json.loads(open({event!r}).read())
    os.environ["_X_AMZN_TRACE_ID"] = "Root=1-6741a0c2-1a2b3c4d5e6f708192a3b4c5;Parent=53995c3f42cd8ad8;Sampled=1"
    context = types.SimpleNamespace(
        function_name=os.environ["AWS_LAMBDA_FUNCTION_NAME"], function_version="$LATEST", memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:eu-west-2:123456789012:function:bench", aws_request_id="bench",
        get_remaining_time_in_millis=lambda: 10_000)
    response = app.lambda_handler(event, context)
    assert response["statusCode"] < 300, response
print("BENCH", imported - started, time.process_time() - started)
"""


def lambda_environment(name: str, variables: dict[str, str]) -> dict[str, str]:
    """The environment of a function's execution environment at init: the template's variables, and what Lambda
    sets (LAMBDA_TASK_ROOT is what switches on Powertools' Tracer and the X-Ray SDK; no trace id until a request)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "POWERTOOLS_", "LAMBDA_", "_X_AMZN_", "PYTHONDONTWRITEBYTECODE"))}
    env.update({
        "LAMBDA_TASK_ROOT": "/var/task", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13", "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
    })
    env.update(variables)
    return env


@functools.cache
def not_in_lambda() -> tuple[str, ...]:
    """Top-level modules .venv has beyond what the layer ships (the local runtime's and the tests' tools). A probe
    makes them unimportable: optional imports would find them here and not in Lambda (the X-Ray SDK's patch_all
    imported requests, botocore imports certifi)."""
    from importlib.metadata import packages_distributions

    def canonical(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    requirements = (ROOT / "layers" / "amends" / "requirements.txt").read_text().splitlines()
    shipped = {canonical(line.split("==")[0]) for line in requirements if "==" in line} | {"amends"}
    return tuple(sorted(module for module, dists in packages_distributions().items()
                        if not any(canonical(dist) in shipped for dist in dists)))


def probe_script(code: str, code_dir: Path | None = None, event: Path | None = None) -> str:
    return PROBE.format(code_dir=str(code_dir or ROOT), absent=not_in_lambda(), code=code,
                        event=str(event) if event else "")


def _probe(code: str, env: dict[str, str], code_dir: Path | None = None, event: Path | None = None) -> tuple[float, float]:
    """(import seconds, import + first invocation seconds) in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", probe_script(code, code_dir, event)], capture_output=True, text=True,
                         env=env)
    if out.returncode:
        raise RuntimeError(f"cold-start probe failed:\n{out.stderr}")
    _, imported, invoked = next(line for line in out.stdout.splitlines() if line.startswith("BENCH ")).split()
    return float(imported), float(invoked)


def _stored_case() -> list[dict[str, Any]]:
    """The sample complaint as its case item and text parts, as DynamoDB hands them back."""
    from amends.adapters.dynamodb import case_items
    from amends.domain.model import Actor, Channel, Submission, open_case
    from boto3.dynamodb.types import TypeSerializer

    submission = json.loads(json.loads((ROOT / "events" / "api_file_complaint.json").read_text())["body"])
    submission.pop("channel")
    now = datetime.now(UTC)
    case = open_case(reference="CMP-2026-BENCH0", access_token_hash="0" * 64, channel=Channel.WEB,
                     submission=Submission.model_validate(submission), actor=Actor.system("bench"), received_at=now,
                     received_at_local=now).case
    item, parts = case_items(case)
    return [{key: TypeSerializer().serialize(value) for key, value in stored.items()} for stored in (item, *parts)]


@contextmanager
def stub_aws() -> Iterator[str]:
    """An endpoint that accepts every AWS JSON call; reads find one case (so a first request does its real work): a
    query of the case's partition its case item and text parts, a query of an index the case item alone."""
    items = _stored_case()

    def answer(found: list[dict[str, Any]]) -> bytes:
        return json.dumps({"Item": found[0], "Items": found, "Count": len(found), "ScannedCount": len(found)}).encode()

    class Stub(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
            request = self.rfile.read(int(self.headers.get("content-length") or 0))
            body = answer(items[:1] if b'"IndexName"' in request else items)
            self.send_response(200)
            self.send_header("content-type", "application/x-amz-json-1.0")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def functions() -> dict[str, Function]:
    from amends_local.template import Template

    return dict(sorted(Template(ROOT / "template.yaml").functions().items()))


def cold_starts() -> None:
    """Each function's import time over the floor, measured in the same rounds so that load on the machine hits
    both alike; for the API functions also import + the first request, since a cold start is both."""
    fns = functions()
    with stub_aws() as endpoint:
        probes: dict[str, Any] = {"floor": lambda: _probe(FLOOR, lambda_environment("floor", {}))}
        for name, fn in fns.items():
            env = lambda_environment(fn.name, {**fn.environment, "AWS_ENDPOINT_URL": endpoint})
            event = ROOT / "events" / FIRST_REQUESTS[name] if name in FIRST_REQUESTS else None
            code = f"import {fn.handler.rsplit('.', 1)[0]} as app"
            probes[name] = lambda code=code, env=env, code_dir=ROOT / fn.code_uri, event=event: \
                _probe(code, env, code_dir, event)
        for probe in probes.values():
            probe()  # writes the bytecode caches, as the deployed package ships .pyc files (make build compiles them)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in probes}
        names = list(probes)
        for round_ in range(RUNS):
            for name in names[round_ % len(names):] + names[:round_ % len(names)]:
                results[name].append(probes[name]())
    floor = statistics.median(imported for imported, _ in results["floor"]) * 1000
    say(f"Cold start as in Lambda (LAMBDA_TASK_ROOT set, so X-Ray tracing on; the template's environment): CPU time, "
          f"median of {RUNS} fresh interpreters")
    say(f"  floor (boto3; pydantic BaseModel, Field; Powertools Logger, Metrics): {floor:.0f} ms")
    say(f"  {'function':26s} {'import':>9s} {'× floor':>8s} {'target':>7s}   import + first request")
    for name in fns:
        imported = statistics.median(i for i, _ in results[name]) * 1000
        target = TARGETS.get(name, 1.5)
        first = ""
        if name in FIRST_REQUESTS:
            first = f"{statistics.median(f for _, f in results[name]) * 1000:6.0f} ms ({FIRST_REQUESTS[name]})"
        verdict = "ok" if imported / floor <= target else "over"
        say(f"  {name:26s} {imported:6.0f} ms {imported / floor:7.2f}× {target:5.1f}× {verdict:4s} {first}")


class CallMeter:
    """Sums the AWS calls the project's handlers make (not the local runtime's own polling), per function, and the
    DynamoDB capacity they consume. The stack runs with ``meter_calls=True``: each execution environment records its
    handler's calls (DynamoDB asked for ReturnConsumedCapacity) and the registry collects them in ``calls``."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def snapshot(self) -> int:
        return len(self.registry.calls)

    def report(self, title: str, since: int) -> None:
        calls: Counter[str] = Counter()
        read_units = write_units = 0.0
        for call in self.registry.calls[since:]:
            calls[f"{call.function}: {call.service}:{call.operation}"] += 1
            reads, writes = _capacity(call.operation, call.consumed)
            read_units, write_units = read_units + reads, write_units + writes
        say(f"{title}: {sum(calls.values())} AWS calls, {read_units:.1f} RCU, {write_units:.1f} WCU")
        for call, count in sorted(calls.items()):
            say(f"    {count:3d} × {call}")


def _capacity(operation: str, consumed: Any) -> tuple[float, float]:
    """Read and write units of one call's ConsumedCapacity (a dict, or a list for batch and transaction calls)."""
    read_units = write_units = 0.0
    for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
        units = float(entry.get("CapacityUnits") or 0)
        reads = float(entry.get("ReadCapacityUnits") or 0)
        writes = float(entry.get("WriteCapacityUnits") or 0)
        if not reads and not writes:  # DynamoDB Local reports only CapacityUnits: attribute by operation
            if operation in {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}:
                reads = units
            else:
                writes = units
        read_units, write_units = read_units + reads, write_units + writes
    return read_units, write_units


def intake_costs() -> None:
    from amends_local.stack import LocalStack

    event = json.loads((ROOT / "events" / "api_file_complaint.json").read_text())
    # Quiet: the handlers' and the runtime's logs go to .local/logs/, not between the figures.
    with LocalStack(ROOT, persist=False, api_port=None, quiet=True, meter_calls=True) as stack:
        meter = CallMeter(stack.functions)
        stack.wait_until_idle(timeout=60)
        key = str(uuid.uuid4())
        event["headers"]["Idempotency-Key"] = key
        event["multiValueHeaders"]["Idempotency-Key"] = [key]
        before = meter.snapshot()
        started = time.perf_counter()
        response = stack.functions.invoke("PublicApiFunction", event)
        elapsed = (time.perf_counter() - started) * 1000
        assert response["statusCode"] == 201, response
        say(f"\nOne intake (POST /complaints with an Idempotency-Key), first call in its execution environment: "
              f"{elapsed:.1f} ms")
        meter.report("  the API request", before)
        stack.wait_until_idle(timeout=60)
        meter.report("  the whole pipeline it sets off (request, outbox, lifecycle, acknowledgement)", before)
        before = meter.snapshot()
        assert stack.functions.invoke("PublicApiFunction", event)["statusCode"] == 201
        meter.report("  the same request retried (answered from the idempotency record)", before)
        timings = []
        for _ in range(20):
            key = str(uuid.uuid4())
            event["headers"]["Idempotency-Key"] = key
            event["multiValueHeaders"]["Idempotency-Key"] = [key]
            started = time.perf_counter()
            assert stack.functions.invoke("PublicApiFunction", event)["statusCode"] == 201
            timings.append((time.perf_counter() - started) * 1000)
        say(f"\nWarm intakes against DynamoDB Local, through the local runtime (20 new complaints): median "
              f"{statistics.median(timings):.1f} ms, max {max(timings):.1f} ms")
        stack.wait_until_idle(timeout=120)  # their pipelines end before the stack stops


def _logs_to(path: Path) -> TextIO:
    """Send whatever this process and its children write to stdout and stderr (the local stack's and the handlers'
    logs) to ``path``; returns a stream to the real stdout, for the figures."""
    path.parent.mkdir(exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    figures = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    with path.open("w") as log:
        os.dup2(log.fileno(), sys.stdout.fileno())
        os.dup2(log.fileno(), sys.stderr.fileno())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    return figures


def main() -> int:
    global _figures
    _figures = figures = _logs_to(LOG)
    say(f"(the local stack's and the handlers' logs: {LOG.relative_to(ROOT)})\n")
    try:
        cold_starts()
        intake_costs()
        from amends_local.bench_ingest import ingestion_throughput
        from amends_local.bench_sweep import sweep_reads

        ingestion_throughput(say)
        sweep_reads(say)
    except Exception:
        traceback.print_exc(file=figures)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
