"""DynamoDB Streams → Lambda event source mappings (function events of Type DynamoDB), as Lambda does them.

Reads the table's stream through the dynamodbstreams API of DynamoDB Local (or moto): DescribeStream, shard
iterators from StartingPosition (TRIM_HORIZON or LATEST), GetRecords, child shards after their parent. Records
that match none of FilterCriteria's patterns (EventBridge pattern syntax over the record, Lambda's rule) are
dropped; the rest go in batches of BatchSize as a real-shaped DynamoDB stream event.

On a function error the batch is retried (BisectBatchOnFunctionError halves it first), up to
MaximumRetryAttempts (-1, Lambda's default, means until stopped); with ReportBatchItemFailures the batch is
retried from the lowest ``itemIdentifier`` (a SequenceNumber). When retries run out, an on-failure record
shaped
like Lambda's (requestContext, responseContext, DDBStreamBatchInfo) goes to DestinationConfig.OnFailure's
queue and the records are skipped.

Checkpoints: per shard, in memory; a persistent run also writes them to ``.local/stream-checkpoints.json`` and
resumes after the last processed record on restart, so a restart does not replay the table's history.

Approximated: MaximumBatchingWindowInSeconds (a batch is what one read returns), MaximumRecordAgeInSeconds,
ParallelizationFactor, TumblingWindowInSeconds; retries back off for at most a second.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.events.models import EventPattern, EventPatternParser

from amends_local.aws import client
from amends_local.environments import error_type
from amends_local.lambdas import FunctionRegistry
from amends_local.template import ACCOUNT_ID, REGION, FunctionEvent, Table
from amends_local.worker import Worker

log = logging.getLogger(__name__)


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    iterator: str | None = None
    start_type: str = "TRIM_HORIZON"  # how its first iterator was obtained
    last_read: str | None = None  # sequence number of the last record read (delivered or pending)
    closed: bool = False
    pending: list[dict[str, Any]] = field(default_factory=list)  # read, not yet delivered


class StreamEventSource(Worker):
    def __init__(
        self,
        event: FunctionEvent,
        table: Table,
        *,
        registry: FunctionRegistry,
        dynamodb_endpoint: str,
        moto_endpoint: str,
        checkpoint_file: Path | None = None,
    ) -> None:
        super().__init__(f"stream:{table.name}->{event.owner_id}")
        p = event.properties
        self.event, self.table, self.registry = event, table, registry
        self.dynamodb = client("dynamodb", dynamodb_endpoint)
        self.streams = client("dynamodbstreams", dynamodb_endpoint)
        self.sqs = client("sqs", moto_endpoint)
        self.moto_endpoint = moto_endpoint
        self.batch_size = int(p.get("BatchSize", 100))
        self.max_retries = int(p.get("MaximumRetryAttempts", -1))
        self.bisect = bool(p.get("BisectBatchOnFunctionError", False))
        self.partial = "ReportBatchItemFailures" in p.get("FunctionResponseTypes", [])
        self.starting_position = p.get("StartingPosition", "LATEST")
        self.on_failure = p.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        self.filters = [
            EventPattern(f["Pattern"], EventPatternParser(f["Pattern"]).parse())
            for f in p.get("FilterCriteria", {}).get("Filters", [])
        ]
        self.enabled = p.get("Enabled", True) is not False
        self.checkpoint_file = checkpoint_file
        self.stream_arn: str | None = None
        self._shards: dict[str, _Shard] = {}
        self._checkpoints: dict[str, str] = self._load_checkpoints()
        self._first_describe = True
        self._lock = threading.Lock()

    # ---- polling -------------------------------------------------------------------------------------------
    def poll_once(self) -> bool:
        if not self.enabled:
            return False
        if self.stream_arn is None:
            self.stream_arn = self.dynamodb.describe_table(TableName=self.table.name)["Table"].get(
                "LatestStreamArn"
            )
            if self.stream_arn is None:
                raise RuntimeError(
                    f"{self.table.name} has no stream: the template's StreamSpecification is missing"
                )
        self._discover_shards()
        busy = False
        for shard in list(self._shards.values()):
            if shard.closed and not shard.pending:
                continue
            if shard.parent_id in self._shards and not self._shards[shard.parent_id].closed:
                continue  # children after their parent, as Lambda orders them
            busy |= self._read(shard)
            while shard.pending and not self.stopping:
                batch, shard.pending = shard.pending[: self.batch_size], shard.pending[self.batch_size :]
                self._deliver(shard, batch)
                busy = True
        return busy

    def _discover_shards(self) -> None:
        start: dict[str, Any] = {}
        while True:
            description = self.streams.describe_stream(StreamArn=self.stream_arn, **start)[
                "StreamDescription"
            ]
            for s in description.get("Shards", []):
                if s["ShardId"] not in self._shards:
                    shard = self._shards[s["ShardId"]] = _Shard(s["ShardId"], s.get("ParentShardId"))
                    shard.start_type = self.starting_position if self._first_describe else "TRIM_HORIZON"
                    shard.iterator = self._iterator(shard)
            if not description.get("LastEvaluatedShardId"):
                break
            start = {"ExclusiveStartShardId": description["LastEvaluatedShardId"]}
        self._first_describe = False

    def _iterator(self, shard: _Shard) -> str:
        """After the last record read, else after the checkpoint, else from the shard's starting position.

        Shards that appear after the first look are new data, read whole (TRIM_HORIZON); StartingPosition
        governs only the shards there at start.
        """
        shard_id = shard.shard_id
        args: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard_id}
        checkpoint = shard.last_read or self._checkpoints.get(self._key(shard_id))
        if checkpoint:
            try:
                return self.streams.get_shard_iterator(
                    **args, ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=checkpoint
                )["ShardIterator"]
            except self.streams.exceptions.TrimmedDataAccessException:
                log.warning(
                    "%s: checkpoint %s of %s was trimmed; reading from the oldest record",
                    self.name,
                    checkpoint,
                    shard_id,
                )
        return self.streams.get_shard_iterator(**args, ShardIteratorType=shard.start_type)["ShardIterator"]

    def _read(self, shard: _Shard) -> bool:
        if shard.iterator is None:
            shard.closed = True
            return False
        try:
            response = self.streams.get_records(ShardIterator=shard.iterator, Limit=1000)
        except (
            self.streams.exceptions.ExpiredIteratorException,
            self.streams.exceptions.TrimmedDataAccessException,
        ) as error:
            # Expired after 15 minutes; or DynamoDB Local now and then refuses an iterator it has just given
            # (seen while a transaction is being written). Resume after the last record read.
            log.warning(
                "%s: %s on %s; resuming after %s",
                self.name,
                type(error).__name__,
                shard.shard_id,
                shard.last_read or "the starting position",
            )
            shard.iterator = self._iterator(shard)
            return True
        shard.iterator = response.get("NextShardIterator")
        if shard.iterator is None:
            shard.closed = True
        records = response.get("Records", [])
        if not records:
            return False
        shard.last_read = records[-1]["dynamodb"]["SequenceNumber"]
        kept = [r for r in (self._lambda_record(r) for r in records) if self._matches(r)]
        if len(kept) < len(records):
            log.debug("%s: %d record(s) filtered out", self.name, len(records) - len(kept))
            if not kept:
                self._checkpoint(shard.shard_id, records[-1]["dynamodb"]["SequenceNumber"])
        shard.pending.extend(kept)
        return True

    def _matches(self, record: dict[str, Any]) -> bool:
        return not self.filters or any(f.matches_event(record) for f in self.filters)

    # ---- delivery with retries -----------------------------------------------------------------------------
    def _deliver(self, shard: _Shard, batch: list[dict[str, Any]]) -> None:
        """Invoke until the batch succeeds or its retries run out; then checkpoint past it."""
        queue = [(batch, 0)]
        while queue and not self.stopping:
            records, attempts = queue.pop(0)
            error, retry_from = self._invoke(records)
            if error is None:
                continue
            attempts += 1
            if 0 <= self.max_retries < attempts:
                self._send_on_failure(shard, records[retry_from:], error, attempts)
                continue
            remaining = records[retry_from:]
            self.sleep(min(0.05 * 2**attempts, 1.0))
            if self.bisect and retry_from == 0 and len(remaining) > 1 and error != "PartialFailure":
                half = len(remaining) // 2
                queue[:0] = [(remaining[:half], attempts), (remaining[half:], attempts)]
            else:
                queue.insert(0, (remaining, attempts))
        if not self.stopping:
            self._checkpoint(shard.shard_id, batch[-1]["dynamodb"]["SequenceNumber"])

    def _invoke(self, records: list[dict[str, Any]]) -> tuple[str | None, int]:
        """(None, 0) on success; else (error description, index to retry from)."""
        try:
            result = self.registry.invoke(self.event.owner_id, {"Records": records})
        except Exception as error:  # noqa: BLE001 - a function error: Lambda retries the batch
            log.warning(
                "%s: %s raised %s: %s (batch of %d)",
                self.name,
                self.event.owner_id,
                error_type(error),
                error,
                len(records),
            )
            return f"{error_type(error)}: {error}", 0
        if not self.partial or not isinstance(result, dict) or not result.get("batchItemFailures"):
            return None, 0
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        ids = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in result["batchItemFailures"]]
        if not all(i in sequence_numbers for i in ids):
            log.warning(
                "%s: batchItemFailures %s are not sequence numbers of the batch: retrying it whole",
                self.name,
                ids,
            )
            return "PartialFailure", 0
        first = min(sequence_numbers.index(i) for i in ids)
        log.info(
            "%s: %d record(s) reported failed; retrying from sequence number %s",
            self.name,
            len(ids),
            sequence_numbers[first],
        )
        return "PartialFailure", first

    def _send_on_failure(
        self, shard: _Shard, records: list[dict[str, Any]], error: str, attempts: int
    ) -> None:
        record = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.registry.functions[self.event.owner_id].arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(
                    records[0]["dynamodb"].get("ApproximateCreationDateTime")
                ),
                "approximateArrivalOfLastRecord": _iso(
                    records[-1]["dynamodb"].get("ApproximateCreationDateTime")
                ),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        if not self.on_failure:
            log.error(
                "%s: retries exhausted (%s) and no OnFailure destination: %d record(s) skipped: %s",
                self.name,
                error,
                len(records),
                json.dumps(record),
            )
            return
        queue_url = f"{self.moto_endpoint}/{ACCOUNT_ID}/{self.on_failure.rsplit(':', 1)[1]}"
        self.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record))
        log.error(
            "%s: retries exhausted (%s); %d record(s) sent to %s",
            self.name,
            error,
            len(records),
            self.on_failure,
        )

    # ---- shapes & checkpoints ------------------------------------------------------------------------------
    def _lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """A GetRecords record as Lambda hands it to a function (JSON-safe, region and source ARN set)."""
        dynamodb = _json_safe(record["dynamodb"])
        return {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": dynamodb,
            "eventSourceARN": self.stream_arn,
        }

    def _key(self, shard_id: str) -> str:
        return f"{self.event.owner_id}.{self.event.name}|{self.stream_arn}|{shard_id}"

    def _checkpoint(self, shard_id: str, sequence_number: str) -> None:
        with self._lock:
            self._checkpoints[self._key(shard_id)] = sequence_number
            if self.checkpoint_file is not None:
                existing = self._read_checkpoint_file()
                existing.update(self._checkpoints)
                self.checkpoint_file.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.checkpoint_file.with_suffix(".tmp")
                tmp.write_text(json.dumps(existing, indent=1, sort_keys=True))
                tmp.replace(self.checkpoint_file)

    def _load_checkpoints(self) -> dict[str, str]:
        return self._read_checkpoint_file() if self.checkpoint_file is not None else {}

    def _read_checkpoint_file(self) -> dict[str, str]:
        assert self.checkpoint_file is not None
        if not self.checkpoint_file.exists():
            return {}
        try:
            return json.loads(self.checkpoint_file.read_text())
        except json.JSONDecodeError as error:
            log.warning("%s is not JSON (%s): starting without checkpoints", self.checkpoint_file, error)
            return {}

    def caught_up(self) -> bool:
        return all(not s.pending for s in self._shards.values())


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, set):
        return [_json_safe(v) for v in value]
    return value


def _iso(epoch: Any) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(float(epoch), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
