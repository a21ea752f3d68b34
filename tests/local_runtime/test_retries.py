"""How Lambda retries what it could not deliver: a stream batch split on a function error (the split spends no
retry), an asynchronous invocation throttled (no retry spent either) or timed out (a retry like any error)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from amends_local.async_invoke import invoke_async
from amends_local.environments import FunctionBusy
from amends_local.stream_delivery import PARTIAL_FAILURE, deliver

from .conftest import aws
from .test_runtime import eventually, item, receive_all


def records(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "dynamodb": {"SequenceNumber": str(i)}} for i, n in enumerate(names, 1)]


def run(batch, *, fails, max_retries: int, bisect: bool = True, partial: bool = False):
    """Deliver ``batch`` to a function that raises on (or, ``partial``, reports) any record named in ``fails``."""
    invoked, exhausted = [], []

    def invoke(recs):
        invoked.append([r["name"] for r in recs])
        bad = [i for i, r in enumerate(recs) if r["name"] in fails]
        if not bad:
            return None, 0
        return (PARTIAL_FAILURE, bad[0]) if partial else ("RuntimeError: boom", 0)

    done = deliver(batch, invoke=invoke, max_retries=max_retries, bisect=bisect, pause=lambda _: True,
                   exhausted=lambda recs, error, attempts: exhausted.append(([r["name"] for r in recs], attempts)))
    return done, invoked, exhausted


def test_splitting_a_failed_batch_spends_no_retry_so_only_the_bad_record_is_given_up() -> None:
    done, invoked, exhausted = run(records("a", "b", "c", "bad"), fails={"bad"}, max_retries=1)
    assert done and exhausted == [(["bad"], 2)]  # tried once and retried once, alone
    delivered = {n for batch in invoked for n in batch if "bad" not in batch}
    assert delivered == {"a", "b", "c"}
    assert invoked == [["a", "b", "c", "bad"], ["a", "b"], ["c", "bad"], ["c"], ["bad"], ["bad"]]


def test_without_retries_a_split_still_isolates_the_bad_record() -> None:
    _, _, exhausted = run(records("a", "bad", "c", "d", "e"), fails={"bad"}, max_retries=0)
    assert exhausted == [(["bad"], 1)]


def test_a_partial_failure_is_retried_from_the_first_failed_record_and_counts() -> None:
    _, invoked, exhausted = run(records("a", "bad", "c"), fails={"bad"}, max_retries=1, partial=True)
    assert invoked == [["a", "bad", "c"], ["bad", "c"]]  # one retry, from the failed record
    assert exhausted == [(["bad", "c"], 2)]


def test_without_bisect_the_whole_batch_is_retried_then_given_up() -> None:
    _, invoked, exhausted = run(records("a", "bad"), fails={"bad"}, max_retries=2, bisect=False)
    assert invoked == [["a", "bad"]] * 3 and exhausted == [(["a", "bad"], 3)]


@dataclass
class ThrottledTwice:
    """A registry whose function is at its concurrency for the first two invocations."""

    config: dict[str, Any]
    calls: list[Any] = field(default_factory=list)

    @property
    def functions(self) -> dict[str, Any]:
        @dataclass
        class Fn:
            logical_id: str = "Busy"
            arn: str = "arn:aws:lambda:eu-west-2:123456789012:function:amends-Busy"
            event_invoke_config: dict[str, Any] = field(default_factory=lambda: self.config)
            dead_letter_queue: None = None

        return {"Busy": Fn()}

    def invoke(self, logical_id: str, event: Any) -> Any:
        self.calls.append(event)
        if len(self.calls) <= 2:
            raise FunctionBusy("Busy: all 1 execution environments (its concurrency) stayed busy for 1s")
        return {"ok": True}


def test_a_throttled_asynchronous_invocation_is_tried_again_without_spending_a_retry() -> None:
    registry = ThrottledTwice({"MaximumRetryAttempts": 0})
    assert invoke_async(registry, "Busy", {"n": 1}, moto_endpoint="http://unused") is True
    assert len(registry.calls) == 3  # two throttles, then the one attempt it has succeeds


def test_the_stream_delivers_the_good_records_of_a_batch_that_raised(fixture_stack) -> None:
    """The fixture's StreamFunction raises for a batch holding an "explode" item (MaximumRetryAttempts: 1)."""
    ddb = aws(fixture_stack, "dynamodb")
    run_id = uuid.uuid4().hex
    good = [f"good#{run_id}#{i}" for i in range(3)]
    bad = f"explode#{run_id}"
    puts = [{"pk": {"S": pk}, "kind": {"S": "record"}} for pk in good[:2]]
    puts += [{"pk": {"S": bad}, "kind": {"S": "record"}, "explode": {"BOOL": True}}, {"pk": {"S": good[2]},
                                                                                       "kind": {"S": "record"}}]
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": "amends-ItemsTable", "Item": i}} for i in puts])
    for pk in good:
        eventually(lambda pk=pk: item(fixture_stack, f"seen#{pk}"), timeout=30)
    fixture_stack.wait_until_idle(timeout=30)
    failed = [json.loads(m["Body"])["DDBStreamBatchInfo"] for m in receive_all(fixture_stack, "StreamDLQ")]
    theirs = [info for info in failed if info["batchSize"] == 1 and info["startSequenceNumber"]
              and _record_is(fixture_stack, info, bad)]
    assert len(theirs) == 1
    assert item(fixture_stack, f"seen#{bad}") is None


def _record_is(stack, info: dict[str, Any], pk: str) -> bool:
    streams = aws(stack, "dynamodbstreams")
    iterator = streams.get_shard_iterator(StreamArn=info["streamArn"], ShardId=info["shardId"],
                                          ShardIteratorType="AT_SEQUENCE_NUMBER",
                                          SequenceNumber=info["startSequenceNumber"])["ShardIterator"]
    got = streams.get_records(ShardIterator=iterator, Limit=1)["Records"]
    return bool(got) and got[0]["dynamodb"]["Keys"]["pk"]["S"] == pk


def test_a_scheduled_invocation_that_times_out_is_retried_then_recorded_as_failed(fixture_stack) -> None:
    """LateFunction (Timeout 1, MaximumRetryAttempts 1, OnFailure AsyncDLQ) always outlives its Timeout."""
    rule = fixture_stack.template.rules()["LateFunctionNightly"]
    assert fixture_stack.fire_schedules_now("LateFunctionNightly") == 1

    def failure():
        for message in receive_all(fixture_stack, "AsyncDLQ"):
            record = json.loads(message["Body"])
            if record["requestPayload"].get("resources") == [rule.arn]:
                return record
        return None

    record = eventually(failure, timeout=30)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responsePayload"]["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in record["responsePayload"]["errorMessage"]
    assert record["requestPayload"]["detail-type"] == "Scheduled Event"
