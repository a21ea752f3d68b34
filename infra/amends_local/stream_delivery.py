"""How Lambda delivers one batch of stream records: retries, BisectBatchOnFunctionError, the on-failure record.

A batch is invoked until it succeeds or its retries run out. When the function *raises* and
BisectBatchOnFunctionError is on, the batch is split in two and each half tried on its own, first half first;
splitting does not count against MaximumRetryAttempts (Lambda's documented rule), so a bad record is isolated
down to a batch of one before its retries are spent, and the good records beside it are delivered. A batch the
function reports partly failed (ReportBatchItemFailures) is retried from the first failed record, which is a
retry. -1 retries (Lambda's default) means until stopped. When retries run out, an on-failure record shaped like
Lambda's (requestContext, responseContext, DDBStreamBatchInfo) is handed to ``exhausted`` and the records are
skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

PARTIAL_FAILURE = "PartialFailure"

Records = list[dict[str, Any]]
# records → (None, 0) on success; else (error description, index of the first record to retry)
Invoke = Callable[[Records], tuple[str | None, int]]


def deliver(batch: Records, *, invoke: Invoke, max_retries: int, bisect: bool,
            exhausted: Callable[[Records, str, int], None], pause: Callable[[int], bool]) -> bool:
    """Invoke until every record of ``batch`` succeeded or was given up (``exhausted(records, error, attempts)``).

    ``pause(retries)`` waits before a retry and returns False when the poller is stopping; then this returns False
    and the batch is to be read again.
    """
    pending: list[tuple[Records, int]] = [(batch, 0)]  # (records, retries already spent on them)
    while pending:
        records, retries = pending.pop(0)
        error, retry_from = invoke(records)
        if error is None:
            continue
        remaining = records[retry_from:]
        if bisect and retry_from == 0 and len(remaining) > 1 and error != PARTIAL_FAILURE:
            half = len(remaining) // 2
            pending[:0] = [(remaining[:half], retries), (remaining[half:], retries)]
            continue
        retries += 1
        if 0 <= max_retries < retries:
            exhausted(remaining, error, retries)
            continue
        if not pause(retries):
            return False
        pending.insert(0, (remaining, retries))
    return True


def failure_record(records: Records, *, function_arn: str, shard_id: str, stream_arn: str | None,
                   attempts: int) -> dict[str, Any]:
    """What Lambda sends to a stream mapping's OnFailure destination for records it gave up on."""
    first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": attempts,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": _iso(datetime.now(UTC).timestamp()),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
            "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


def _iso(epoch: Any) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(float(epoch), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
