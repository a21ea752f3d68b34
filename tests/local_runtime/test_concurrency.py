"""Lambda's pollers run batches at once: an SQS mapping up to its ScalingConfig.MaximumConcurrency, a stream's
shards side by side and, with ParallelizationFactor, several batches of one shard, each item's changes in order.
The fixture's SlowFunction records when it handled what (``handled#<name>``: [start, end, step] per run)."""

from __future__ import annotations

import json
import uuid
from itertools import count, pairwise

from amends_local.stream_poller import lane

from .conftest import aws
from .test_runtime import eventually, item


def runs(stack, name: str) -> list[tuple[float, float, int]]:
    found = item(stack, f"handled#{name}")
    return [tuple(float(v["N"]) for v in run["L"]) for run in found["runs"]["L"]] if found else []


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    at_once = most = 0
    for _, change in edges:
        at_once += change
        most = max(most, at_once)
    return most


def test_an_sqs_mapping_runs_batches_at_once_up_to_its_maximum_concurrency(fixture_stack) -> None:
    sqs = aws(fixture_stack, "sqs")
    url = fixture_stack.template.queues()["SlowQueue"].url
    names = [f"sqs-{uuid.uuid4().hex}" for _ in range(5)]
    for name in names:  # BatchSize 1: one message per invocation
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": name, "sleep": 1.5}))
    handled = eventually(lambda: all(runs(fixture_stack, n) for n in names) and [runs(fixture_stack, n)[0]
                                                                                  for n in names], timeout=40)
    assert most_at_once([(start, end) for start, end, _ in handled]) == 2  # MaximumConcurrency: 2


def test_a_stream_runs_parallel_lanes_of_a_shard_and_keeps_each_items_changes_in_order(fixture_stack) -> None:
    ddb = aws(fixture_stack, "dynamodb")
    keys: dict[int, str] = {}
    for n in count():  # two items that fall in different lanes (ParallelizationFactor: 2)
        pk = f"slow#{uuid.uuid4().hex}#{n}"
        keys.setdefault(lane({"dynamodb": {"Keys": {"pk": {"S": pk}}}}, 2), pk)
        if len(keys) == 2:
            break
    for pk in keys.values():
        ddb.put_item(TableName="amends-ItemsTable",
                     Item={"pk": {"S": pk}, "kind": {"S": "slow"}, "step": {"N": "1"}, "sleep": {"N": "1.5"}})
    for step in (2, 3):
        for pk in keys.values():
            ddb.update_item(TableName="amends-ItemsTable", Key={"pk": {"S": pk}},
                            UpdateExpression="SET step = :s, sleep = :z",
                            ExpressionAttributeValues={":s": {"N": str(step)}, ":z": {"N": "0.1"}})
    handled = eventually(lambda: all(len(runs(fixture_stack, pk)) == 3 for pk in keys.values())
                         and {pk: runs(fixture_stack, pk) for pk in keys.values()}, timeout=40)
    for pk, its_runs in handled.items():
        assert [step for _, _, step in its_runs] == [1, 2, 3], pk  # each item's changes in order...
        assert all(a[1] <= b[0] for a, b in pairwise(its_runs)), pk  # ...one after the other
    first = [its_runs[0] for its_runs in handled.values()]
    assert most_at_once([(start, end) for start, end, _ in first]) == 2  # ...while the two lanes ran at once
