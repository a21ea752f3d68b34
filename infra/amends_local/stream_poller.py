"""DynamoDB Streams → Lambda event source mappings (function events of Type DynamoDB), as Lambda does them.

Reads the table's stream through the dynamodbstreams API of DynamoDB Local (or moto): DescribeStream, shard
iterators from StartingPosition (TRIM_HORIZON or LATEST), GetRecords, child shards after their parent. Records
that match none of FilterCriteria's patterns (EventBridge pattern syntax over the record, Lambda's rule) are
dropped; the rest go in batches of BatchSize as a real-shaped DynamoDB stream event.

Concurrency, as Lambda's: every shard is processed at the same time as the others, its own batches one after the
other, in order. With ParallelizationFactor N, a shard's records are spread over N lanes by their item's key, so
up to N batches of one shard run at once, each lane going on as soon as its own batch is done, while each item's
changes still arrive in order. A shard keeps being read while its batches run (up to ``MAX_BACKLOG`` records
ahead); its checkpoint moves past a record once that record and every one before it were delivered. Never more
batches run at once than the function's concurrency. Retries, BisectBatchOnFunctionError and the on-failure
record are :mod:`amends_local.stream_delivery`'s.

Checkpoints: per shard, in memory; a persistent run also writes them to ``.local/stream-checkpoints.json`` and
resumes after the last processed record on restart, so a restart does not replay the table's history.

Approximated: MaximumBatchingWindowInSeconds (a batch is what one read returns), MaximumRecordAgeInSeconds,
TumblingWindowInSeconds; retries back off for at most a second.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from moto.events.models import EventPattern, EventPatternParser

from amends_local.aws import client
from amends_local.environments import error_type
from amends_local.lambdas import DEFAULT_CONCURRENCY, FunctionRegistry
from amends_local.stream_delivery import PARTIAL_FAILURE, deliver, failure_record
from amends_local.template import ACCOUNT_ID, REGION, FunctionEvent, Table
from amends_local.worker import Tasks, Worker

log = logging.getLogger(__name__)

MAX_BACKLOG = 1000  # records read from a shard and not yet delivered, beyond which it is not read further


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    iterator: str | None = None
    start_type: str = "TRIM_HORIZON"  # how its first iterator was obtained
    last_read: str | None = None  # sequence number of the last record read (delivered or pending)
    closed: bool = False
    lanes: list[deque[dict[str, Any]]] = field(default_factory=list)  # read, not yet handed to the function
    busy: set[int] = field(default_factory=set)  # lanes whose batches are being delivered
    # Records read and not yet checkpointed, in stream order: sequence number → delivered (or given up).
    outstanding: dict[str, bool] = field(default_factory=dict)

    @property
    def idle(self) -> bool:
        return not self.outstanding and not self.busy


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
        self._lock = threading.RLock()  # the shards' lanes and checkpoints: the poller and the lanes' tasks share them
        self.parallelization = max(1, int(p.get("ParallelizationFactor", 1)))
        reserved = registry.functions[event.owner_id].reserved_concurrency
        concurrency = DEFAULT_CONCURRENCY if reserved is None else reserved
        # A task per lane being delivered, never more than the function may run at once.
        self.shards = Tasks(self.name, concurrency)
        self.tasks.append(self.shards)

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
        found = False
        for shard in list(self._shards.values()):
            if not self._parent_done(shard):
                continue  # children after their parent, as Lambda orders them
            with self._lock:
                backlog = len(shard.outstanding)
            if not shard.closed and backlog < MAX_BACKLOG:
                found |= self._read(shard)
            found |= self._start_lanes(shard)
        with self._lock:
            in_flight = any(not shard.idle for shard in self._shards.values())
        if in_flight and not found:
            self.shards.wait_for_change(self.idle_wait)
        return found or in_flight

    def _parent_done(self, shard: _Shard) -> bool:
        parent = self._shards.get(shard.parent_id or "")
        with self._lock:
            return parent is None or (parent.closed and parent.idle)

    def _discover_shards(self) -> None:
        start: dict[str, Any] = {}
        while True:
            description = self.streams.describe_stream(StreamArn=self.stream_arn, **start)[
                "StreamDescription"
            ]
            for s in description.get("Shards", []):
                if s["ShardId"] not in self._shards:
                    shard = self._shards[s["ShardId"]] = _Shard(s["ShardId"], s.get("ParentShardId"))
                    shard.lanes = [deque() for _ in range(self.parallelization)]
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
        kept = [r for r in (self._lambda_record(r) for r in records) if self._matches(r)]
        if len(kept) < len(records):
            log.debug("%s: %d record(s) filtered out", self.name, len(records) - len(kept))
        with self._lock:
            shard.last_read = records[-1]["dynamodb"]["SequenceNumber"]
            for record in kept:
                shard.outstanding[record["dynamodb"]["SequenceNumber"]] = False
                shard.lanes[lane(record, self.parallelization)].append(record)
            if not shard.outstanding:  # all filtered out, nothing before them waiting
                self._checkpoint(shard.shard_id, shard.last_read)
        return True

    def _matches(self, record: dict[str, Any]) -> bool:
        return not self.filters or any(f.matches_event(record) for f in self.filters)

    # ---- delivery: shards at once, lanes within a shard, batches in order within a lane ------------------------
    def _start_lanes(self, shard: _Shard) -> bool:
        """Start delivering each lane that has records and is not already being delivered; True if one started."""
        started = False
        for index, queue in enumerate(shard.lanes):
            with self._lock:
                ready = bool(queue) and index not in shard.busy
            if not ready or self.stopping:
                continue
            if not self.shards.wait_for_room(0):
                break  # as many batches in flight as the function may run
            with self._lock:
                shard.busy.add(index)
            self.shards.start(self._run_lane, shard, index)
            started = True
        return started

    def _run_lane(self, shard: _Shard, index: int) -> None:
        """Deliver one lane's records, a batch at a time, in order, until it has none; checkpoint as they are done."""
        try:
            while not self.stopping:
                with self._lock:
                    queue = shard.lanes[index]
                    batch = [queue.popleft() for _ in range(min(len(queue), self.batch_size))]
                if not batch:
                    return
                if not self._deliver(shard, batch):
                    with self._lock:
                        queue.extendleft(reversed(batch))  # stopping: read again on restart
                    return
                with self._lock:
                    for record in batch:
                        shard.outstanding[record["dynamodb"]["SequenceNumber"]] = True
                    self._advance(shard)
        finally:
            with self._lock:
                shard.busy.discard(index)

    def _advance(self, shard: _Shard) -> None:
        """Checkpoint past the records delivered with everything before them (called holding the lock)."""
        done = None
        while shard.outstanding:
            sequence_number, delivered = next(iter(shard.outstanding.items()))
            if not delivered:
                break
            del shard.outstanding[sequence_number]
            done = sequence_number
        if not shard.outstanding and shard.last_read is not None:
            done = shard.last_read  # what was filtered out after them too
        if done is not None:
            self._checkpoint(shard.shard_id, done)

    def _deliver(self, shard: _Shard, batch: list[dict[str, Any]]) -> bool:
        """Invoke until the batch succeeds or its retries run out; False if the poller stopped first."""
        if self.stopping:
            return False
        return deliver(
            batch, invoke=self._invoke, max_retries=self.max_retries, bisect=self.bisect,
            exhausted=lambda records, error, attempts: self._send_on_failure(shard, records, error, attempts),
            pause=lambda retries: self.sleep(min(0.05 * 2**retries, 1.0)),
        )

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
            return PARTIAL_FAILURE, 0
        first = min(sequence_numbers.index(i) for i in ids)
        log.info(
            "%s: %d record(s) reported failed; retrying from sequence number %s",
            self.name,
            len(ids),
            sequence_numbers[first],
        )
        return PARTIAL_FAILURE, first

    def _send_on_failure(
        self, shard: _Shard, records: list[dict[str, Any]], error: str, attempts: int
    ) -> None:
        record = failure_record(records, function_arn=self.registry.functions[self.event.owner_id].arn,
                                shard_id=shard.shard_id, stream_arn=self.stream_arn, attempts=attempts)
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
        with self._lock:
            return all(shard.idle for shard in self._shards.values())


def lane(record: dict[str, Any], lanes: int) -> int:
    """The lane of a record's item (its key), so that one item's changes stay in order."""
    keys = json.dumps(record["dynamodb"].get("Keys", {}), sort_keys=True)
    return zlib.crc32(keys.encode()) % lanes


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

