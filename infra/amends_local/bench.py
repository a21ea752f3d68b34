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
import threading
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
    """Counts the AWS calls the project's handlers make (not the local runtime's own polling), per function, and
    the DynamoDB capacity they consume (DynamoDB Local reports it when asked with ReturnConsumedCapacity)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.read_units = 0.0
        self.write_units = 0.0
        self._local = threading.local()

    def install(self) -> None:
        import botocore.client

        from amends_local.lambdas import FunctionRegistry

        meter, make_api_call, invoke = self, botocore.client.BaseClient._make_api_call, FunctionRegistry.invoke

        def counted_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            function = getattr(meter._local, "function", None)
            if function is None:
                return make_api_call(client, operation, params)
            service = client.meta.service_model.service_name
            shape = client.meta.service_model.operation_model(operation).input_shape
            if service == "dynamodb" and shape and "ReturnConsumedCapacity" in shape.members:
                params = {**params, "ReturnConsumedCapacity": "TOTAL"}
            response: dict[str, Any] = {}
            try:
                response = make_api_call(client, operation, params)
                return response
            finally:  # refused calls (a failed condition) are calls too, and are billed
                meter._record(function, service, operation, response)

        def metered_invoke(registry: Any, logical_id: str, event: Any) -> Any:
            outer = getattr(meter._local, "function", None)
            meter._local.function = logical_id
            try:
                return invoke(registry, logical_id, event)
            finally:
                meter._local.function = outer

        botocore.client.BaseClient._make_api_call = counted_call
        FunctionRegistry.invoke = metered_invoke

    def _record(self, function: str, service: str, operation: str, response: dict[str, Any]) -> None:
        self.calls[f"{function}: {service}:{operation}"] += 1
        consumed = response.get("ConsumedCapacity")
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            units = float(entry.get("CapacityUnits") or 0)
            reads = float(entry.get("ReadCapacityUnits") or 0)
            writes = float(entry.get("WriteCapacityUnits") or 0)
            if not reads and not writes:  # DynamoDB Local reports only CapacityUnits: attribute by operation
                if operation in {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}:
                    reads = units
                else:
                    writes = units
            self.read_units += reads
            self.write_units += writes

    def snapshot(self) -> tuple[Counter[str], float, float]:
        return Counter(self.calls), self.read_units, self.write_units

    def report(self, title: str, since: tuple[Counter[str], float, float]) -> None:
        calls = self.calls - since[0]
        print(f"{title}: {sum(calls.values())} AWS calls, "
              f"{self.read_units - since[1]:.1f} RCU, {self.write_units - since[2]:.1f} WCU")
        for call, count in sorted(calls.items()):
            print(f"    {count:3d} × {call}")


def intake_costs() -> None:
    from amends_local.stack import LocalStack

    meter = CallMeter()
    meter.install()
    event = json.loads((ROOT / "events" / "api_file_complaint.json").read_text())
    with LocalStack(ROOT, persist=False, api_port=None) as stack:
        stack.wait_until_idle(timeout=60)
        key = str(uuid.uuid4())
        event["headers"]["Idempotency-Key"] = key
        event["multiValueHeaders"]["Idempotency-Key"] = [key]
        before = meter.snapshot()
        started = time.perf_counter()
        response = stack.functions.invoke("PublicApiFunction", event)
        elapsed = (time.perf_counter() - started) * 1000
        assert response["statusCode"] == 201, response
        print(f"\nOne intake (POST /complaints with an Idempotency-Key), first call, in-process: {elapsed:.1f} ms")
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
        print(f"\nWarm intakes against DynamoDB Local, in-process (20 new complaints): median "
              f"{statistics.median(timings):.1f} ms, max {max(timings):.1f} ms")


def main() -> int:
    cold_starts()
    intake_costs()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
