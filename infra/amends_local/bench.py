"""``make bench``: what a cold start and one complaint cost. Prints figures; asserts nothing.

1. Cold-start import time of each function's handler module (fresh interpreter each time, median of N),
   beside the floor: importing boto3 and Powertools alone.
2. The AWS calls and DynamoDB capacity units one intake costs: the public API request alone, and the whole
   pipeline it sets off (outbox publisher, lifecycle step, acknowledgement), measured on the local stack with
   DynamoDB Local's ReturnConsumedCapacity.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
FLOOR = "import boto3, aws_lambda_powertools; from aws_lambda_powertools import Logger, Tracer"


def _import_seconds(code: str, path: Path | None) -> float:
    probe = (
        "import sys, time\n"
        + (f"sys.path.insert(0, {str(path)!r})\n" if path else "")
        + "t = time.perf_counter()\n"
        + code + "\n"
        + "print(time.perf_counter() - t)\n"
    )
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-2", "PYTHONDONTWRITEBYTECODE": "0"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _median_ms(code: str, path: Path | None = None) -> float:
    _import_seconds(code, path)  # warm the bytecode cache, as a deployed package has .pyc files
    return statistics.median(_import_seconds(code, path) for _ in range(RUNS)) * 1000


def functions() -> dict[str, tuple[Path, str]]:
    """Each function's code directory and handler module, as template.yaml declares them."""
    from amends_local.template import Template

    return {fn.logical_id: (ROOT / fn.code_uri, fn.handler.rsplit(".", 1)[0])
            for fn in Template(ROOT / "template.yaml").functions().values()}


def cold_starts() -> None:
    print(f"Cold-start import time (median of {RUNS} fresh interpreters, ms)")
    floor = _median_ms(FLOOR)
    print(f"  {'boto3 + Powertools alone (floor)':42s} {floor:8.1f}")
    for name, (code_dir, module) in sorted(functions().items()):
        ms = _median_ms(f"import {module}", code_dir)
        print(f"  {name:42s} {ms:8.1f}   (+{ms - floor:.1f} over the floor)")


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
        print(f"{title}: {sum(calls.values())} AWS calls, {read_units:.1f} RCU, {write_units:.1f} WCU")
        for call, count in sorted(calls.items()):
            print(f"    {count:3d} × {call}")


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
        print(f"\nOne intake (POST /complaints with an Idempotency-Key), first call in its execution environment: "
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
        print(f"\nWarm intakes against DynamoDB Local, through the local runtime (20 new complaints): median "
              f"{statistics.median(timings):.1f} ms, max {max(timings):.1f} ms")
        stack.wait_until_idle(timeout=120)  # their pipelines end before the stack stops


def main() -> int:
    cold_starts()
    intake_costs()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
