"""SQS → Lambda event source mappings (function events of Type SQS), with Lambda's semantics.

Receive up to BatchSize (at most 10 per call) with the queue's visibility timeout, invoke the function with
a
real-shaped SQS event, then delete what succeeded: everything, or with ``ReportBatchItemFailures`` everything
but the ``batchItemFailures`` (``itemIdentifier`` = messageId; a malformed answer fails the whole batch, as in
Lambda). When the handler raises, nothing is deleted. Failed messages come back after the visibility timeout,
and moto's SQS moves a message to the queue's dead-letter queue on the receive after ``maxReceiveCount``
(moto/sqs/models.py ``receive_message``), as SQS does.

Batches run concurrently, as Lambda's pollers run them: up to ScalingConfig.MaximumConcurrency at once, and never
more than the function's concurrency (``ReservedConcurrentExecutions``, else the runtime's default), so a batch
always finds an execution environment. A standard queue gives no order, and neither does this; a FIFO queue's
ordering is SQS's own (moto holds back a message group while one of its messages is in flight).

Approximated: MaximumBatchingWindowInSeconds (a batch is whatever one receive returns); Lambda's gradual scaling
(five pollers, then more each minute) is not: the limit is there at once.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from amends_local.aws import client
from amends_local.environments import error_type
from amends_local.lambdas import DEFAULT_CONCURRENCY, FunctionRegistry
from amends_local.template import REGION, FunctionEvent, Queue
from amends_local.worker import Tasks, Worker

log = logging.getLogger(__name__)


class SqsEventSource(Worker):
    def __init__(
        self, event: FunctionEvent, queue: Queue, *, registry: FunctionRegistry, moto_endpoint: str
    ) -> None:
        super().__init__(f"sqs:{queue.name}->{event.owner_id}")
        self.event = event
        self.queue = queue
        self.registry = registry
        self.sqs = client("sqs", moto_endpoint)
        self.batch_size = min(int(event.properties.get("BatchSize", 10)), 10)
        self.partial = "ReportBatchItemFailures" in event.properties.get("FunctionResponseTypes", [])
        self.batches = Tasks(self.name, concurrency(event, registry))
        self.tasks.append(self.batches)

    def poll_once(self) -> bool:
        if not self.batches.wait_for_room(self.idle_wait):
            return True  # as many batches in flight as the mapping may have
        messages = self.sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            busy = self.batches.running > 0
            self.batches.wait_for_change(self.idle_wait)
            return busy
        self.batches.start(self._process, messages)
        return True

    def _process(self, messages: list[dict[str, Any]]) -> None:
        """Invoke the function with one batch; delete what it processed."""
        event = {"Records": [self._record(m) for m in messages]}
        try:
            result = self.registry.invoke(self.event.owner_id, event)
        except Exception as error:  # noqa: BLE001 - a function error: the batch returns to the queue
            log.warning(
                "%s: %s raised %s: %s; %d message(s) return after the visibility timeout (%ss)",
                self.name,
                self.event.owner_id,
                error_type(error),
                error,
                len(messages),
                self.queue.visibility_timeout,
            )
            return
        failed = self._failed_ids(result, messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        if failed:
            log.info(
                "%s: %d of %d message(s) reported failed; they return after the visibility timeout",
                self.name,
                len(failed),
                len(messages),
            )
        if done:
            response = self.sqs.delete_message_batch(
                QueueUrl=self.queue.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
            for failure in response.get("Failed", []):
                log.error("%s: could not delete a processed message: %s", self.name, failure)

    def _failed_ids(self, result: Any, messages: list[dict[str, Any]]) -> set[str]:
        if not self.partial or result is None:
            return set()
        all_ids = {m["MessageId"] for m in messages}
        failures = result.get("batchItemFailures") if isinstance(result, dict) else None
        if failures is None:
            return set()
        ids = {f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures}
        if not ids <= all_ids:
            log.warning(
                "%s: batchItemFailures names unknown or empty itemIdentifier(s) %s: the whole batch fails",
                self.name,
                sorted(map(str, ids - all_ids)),
            )
            return all_ids
        return ids  # type: ignore[return-value]

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: _attribute(value) for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue.arn,
            "awsRegion": REGION,
        }


def concurrency(event: FunctionEvent, registry: FunctionRegistry) -> int:
    """How many batches the mapping runs at once: its MaximumConcurrency, bounded by the function's concurrency."""
    reserved = registry.functions[event.owner_id].reserved_concurrency
    limit = DEFAULT_CONCURRENCY if reserved is None else reserved
    maximum = event.properties.get("ScalingConfig", {}).get("MaximumConcurrency")
    return max(1, min(limit, int(maximum)) if maximum is not None else limit)


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS API attribute → the shape Lambda puts in an event (lower camel case, binary as base64)."""
    out: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return out
