"""``make bench``, the escalation sweep: what one sweep reads with 1,000, 10,000 and 100,000 open cases, 100 of them due.

The sweep finds what is due through the case table's sharded ``by-due`` index (``DynamoTimerStore.due``, the real
adapter), never a scan. Each open case has a timer item in the index (what ``adapters.dynamodb.timer_item`` writes);
a fixed 100 are due, the rest later. Each size is seeded into a fresh table in DynamoDB Local (moto's DynamoDB when
Java is missing, said so) with batch writes, then swept a few times. Reads are counted from DynamoDB's own
``ConsumedCapacity`` and ``ScannedCount`` of every query the sweep makes. The point the figures make: reads and
time grow with the cases that are due, not with the cases that are open. (Handling each due case then costs the
same per case whatever the table holds: its own partition's reads and one transaction.)
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from amends.adapters.dynamodb import case_pk, due_key, timer_shard
from amends.adapters.timers import DynamoTimerStore

from amends_local.aws import client
from amends_local.dynamodb_local import DynamoDBLocal, DynamoDBLocalUnavailable
from amends_local.template import Template

ROOT = Path(__file__).resolve().parents[2]
SIZES = tuple(int(s) for s in os.environ.get("AMENDS_BENCH_SWEEP_SIZES", "1000,10000,100000").split(","))
DUE = 100
SWEEPS = 5
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


class QueryMeter:
    """Adds ReturnConsumedCapacity to the client's queries and sums what DynamoDB reports for them."""

    def __init__(self, dynamodb: Any) -> None:
        self.requests = 0
        self.units = 0.0
        self.items = 0
        dynamodb.meta.events.register("provide-client-params.dynamodb.Query", self._ask)
        dynamodb.meta.events.register("after-call.dynamodb.Query", self._count)

    def reset(self) -> None:
        self.requests, self.units, self.items = 0, 0.0, 0

    def _ask(self, params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def _count(self, parsed: dict[str, Any], **_: Any) -> None:
        self.requests += 1
        self.units += float((parsed.get("ConsumedCapacity") or {}).get("CapacityUnits") or 0)
        self.items += int(parsed.get("ScannedCount") or 0)


def _timer(number: int, due: bool) -> dict[str, Any]:
    reference = f"CMP-2027-{number:07d}"
    due_at = NOW - timedelta(minutes=number % 60 + 1) if due else NOW + timedelta(days=1 + number % 55)
    return {"PutRequest": {"Item": {
        "pk": {"S": case_pk(reference)}, "sk": {"S": "TIMER#final_response"}, "kind": {"S": "timer"},
        "name": {"S": "final_response"}, "set_by_version": {"N": "3"}, "due_at": {"S": due_at.isoformat()},
        "due_pk": {"S": timer_shard(reference)}, "due_sk": {"S": f"{due_key(due_at)}#{reference}#final_response"}}}}


def _seed(dynamodb: Any, table: str, open_cases: int) -> None:
    batch: list[dict[str, Any]] = []
    for number in range(open_cases):
        batch.append(_timer(number, due=number < DUE))
        if len(batch) == 25 or number == open_cases - 1:
            request = {table: batch}
            while request:
                request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            batch = []


def _table(dynamodb: Any, template: Template, name: str) -> None:
    props = template.tables()["CasesTable"].properties
    index = next(i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] == "by-due")
    names = {k["AttributeName"] for k in props["KeySchema"] + index["KeySchema"]}
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=props["KeySchema"],
        AttributeDefinitions=[a for a in props["AttributeDefinitions"] if a["AttributeName"] in names],
        GlobalSecondaryIndexes=[{k: index[k] for k in ("IndexName", "KeySchema", "Projection")}])


def sweep_reads(say: Any = print) -> None:
    template = Template(ROOT / "template.yaml")
    with tempfile.TemporaryDirectory() as state:
        engine = DynamoDBLocal(Path(state), persist=False, install_dir=ROOT / ".local" / "dynamodb-local")
        try:
            endpoint, what = engine.start(), "DynamoDB Local"
        except DynamoDBLocalUnavailable as why:
            from amends_local import moto_server

            endpoint, what = moto_server.acquire(), f"moto's DynamoDB ({why})"
        try:
            dynamodb = client("dynamodb", endpoint)
            meter = QueryMeter(dynamodb)
            say(f"\nThe escalation sweep's read of what is due (the by-due index, {DUE} cases due), on {what}:")
            say(f"  {'open cases':>10s} {'due found':>9s} {'queries':>7s} {'items read':>10s} {'RCU':>6s} "
                f"{'ms/sweep':>8s} {'seeding':>8s}")
            for size in SIZES:
                name = f"bench-sweep-{size}"
                _table(dynamodb, template, name)
                started = time.perf_counter()
                _seed(dynamodb, name, size)
                seeded = time.perf_counter() - started
                store = DynamoTimerStore(name, dynamodb)
                timings, found = [], 0
                for _ in range(SWEEPS):
                    meter.reset()
                    started = time.perf_counter()
                    found = len(store.due(NOW, limit=DUE))
                    timings.append((time.perf_counter() - started) * 1000)
                say(f"  {size:10,d} {found:9d} {meter.requests:7d} {meter.items:10d} {meter.units:6.1f} "
                    f"{statistics.median(timings):8.1f} {seeded:7.0f}s")
                dynamodb.delete_table(TableName=name)
        finally:
            engine.stop()


if __name__ == "__main__":
    sweep_reads()
