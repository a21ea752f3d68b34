"""The only code that talks to the case table.

Single-table layout (all items of one case share ``pk = CASE#<reference>``):

| item       | sk                                  | what                                                     |
|------------|-------------------------------------|----------------------------------------------------------|
| case       | ``CASE``                            | the current version of the case (``version`` for locking) |
| timeline   | ``TL#<seq:08d>``                    | one append-only entry per change; never updated          |
| outbox     | ``OUTBOX#<seq:08d>#<id>``           | an event to publish; ``due_pk=OUTBOX`` until published   |
| text part  | ``<owner sk>#TEXT#<field>#<n:03d>`` | part of a long text of the case or of an entry (below)   |
| timer      | ``TIMER#<name>``                    | when a timer falls due; ``due_pk=TIMER#<shard>`` while set |
| execution  | ``EXECUTION``                       | the task token the case's lifecycle execution waits on   |

The long free texts (a case's description and remedy sought, an entry's body) live in text parts, not in their
owner item: see :mod:`amends.adapters.long_texts`. The case's texts are written with its first version and
left in place by later changes, so a change to a case with a 400 KB description writes a small item.

Indexes: ``by-status`` (queue by status, then priority, then age), ``by-owner``, ``by-received`` (all cases),
``by-due`` (things due at a time: pending outbox events, set timers).

Timers are written here, with the change that sets or clears them; the sweep reads and settles them through
:mod:`amends.adapters.timers`, and the lifecycle's task token lives in :mod:`amends.adapters.executions`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from amends.adapters import long_texts
from amends.domain.errors import CaseNotFound, ConcurrentUpdate, InvalidCursor
from amends.domain.events import DomainEvent
from amends.domain.model import Case, CaseListing, Change, Priority, TimelineEntry
from amends.domain.timers import Timer
from amends.services.ports import CasePage, CaseQuery, CaseRecord, ReferenceTaken

PRIORITY_RANK = {Priority.URGENT: "1", Priority.HIGH: "2", Priority.NORMAL: "3", Priority.LOW: "4"}
OUTBOX_RETENTION = timedelta(days=7)
CASE_TEXTS = {"description": ("submission", "description"), "remedy_sought": ("submission", "remedy_sought"),
              "proposal_reasons": ("proposal", "reasons"), "decision_reasons": ("decision", "reasons")}
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit for TransactWriteItems
ENTRY_TEXTS = {"body": ("body",)}

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_item(plain: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in plain.items() if v is not None}


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain_numbers(_deserializer.deserialize(v)) for k, v in item.items()}


def _plain_numbers(value: Any) -> Any:
    """DynamoDB hands numbers back as Decimal; our models hold only ints."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    return value


def case_pk(reference: str) -> str:
    return f"CASE#{reference}"


def case_items(case: Case) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The case item (without its long texts) and the text parts holding them."""
    rank = PRIORITY_RANK[case.priority]
    received = case.received_at.isoformat()
    doc = case.model_dump(mode="json")
    texts = long_texts.take(doc, CASE_TEXTS)
    item: dict[str, Any] = {
        "pk": case_pk(case.reference),
        "sk": "CASE",
        "kind": "case",
        "version": case.version,
        "status_pk": f"STATUS#{case.status.value}",
        "status_sk": f"{rank}#{received}#{case.reference}",
        "received_pk": "CASES",
        "received_sk": f"{received}#{case.reference}",
        "case": doc,
        **long_texts.manifest(texts),
    }
    if case.owner:
        item["owner_pk"] = f"OWNER#{case.owner}"
        item["owner_sk"] = f"{case.status.value}#{rank}#{received}#{case.reference}"
    return item, long_texts.part_items(item["pk"], item["sk"], texts)


def timeline_items(reference: str, entry: TimelineEntry) -> list[dict[str, Any]]:
    """The timeline entry's item (without its body) first, then the text parts holding the body."""
    doc = entry.model_dump(mode="json")
    texts = long_texts.take(doc, ENTRY_TEXTS)
    item = {"pk": case_pk(reference), "sk": f"TL#{entry.seq:08d}", "kind": "timeline", "entry": doc}
    if texts:
        item.update(long_texts.manifest(texts))
    return [item, *long_texts.part_items(item["pk"], item["sk"], texts)]


def _case_from(item: dict[str, Any], parts: list[dict[str, Any]]) -> Case:
    return Case.model_validate(long_texts.put_back(item["case"], CASE_TEXTS, long_texts.assemble(item, parts)))


def _entry_from(item: dict[str, Any], parts: list[dict[str, Any]]) -> TimelineEntry:
    return TimelineEntry.model_validate(
        long_texts.put_back(item["entry"], ENTRY_TEXTS, long_texts.assemble(item, parts)))


def outbox_item(event: DomainEvent) -> dict[str, Any]:
    return {
        "pk": case_pk(event.case_reference),
        "sk": f"OUTBOX#{event.case_version:08d}#{event.event_id}",
        "kind": "outbox",
        "due_pk": "OUTBOX",
        "due_sk": f"{event.occurred_at.isoformat()}#{event.event_id}",
        "expires_at": int((event.occurred_at + OUTBOX_RETENTION).timestamp()),
        # The event as one JSON string: it is a payload the adapter never queries into, and a string survives any
        # stream reader unchanged (DynamoDB Local's stream drops the type of an empty map nested in a map).
        "event": event.model_dump_json(),
    }


# Set timers are spread over a few partitions of the by-due index, so that a burst of decisions does not write one
# index partition; the sweep queries each shard.
TIMER_SHARDS = 4


def timer_shard(reference: str) -> str:
    return f"TIMER#{int(hashlib.sha256(reference.encode()).hexdigest()[:8], 16) % TIMER_SHARDS}"


def due_key(at: datetime) -> str:
    """A due time as a sort key: UTC, fixed width, so string order is time order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def timer_item(change: Change, timer: Timer) -> dict[str, Any]:
    """A set timer is in the by-due index until it fires or is cleared; a cleared one stays as a record, out of it."""
    reference = change.case.reference
    item: dict[str, Any] = {
        "pk": case_pk(reference), "sk": f"TIMER#{timer.name}", "kind": "timer", "name": timer.name,
        "set_by_version": change.case.version,
    }
    if timer.due_at is None:
        item["cleared_at"] = change.case.updated_at.isoformat()
    else:
        item.update(due_at=timer.due_at.isoformat(), due_pk=timer_shard(reference),
                    due_sk=f"{due_key(timer.due_at)}#{reference}#{timer.name}")
    return item


def event_from_outbox_image(image: dict[str, Any]) -> DomainEvent:
    """Read an outbox item as the stream delivers it (DynamoDB JSON)."""
    return DomainEvent.model_validate_json(_from_item(image)["event"])


class DynamoCaseRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = table_name
        self.client = client or boto3.client("dynamodb")

    # -- writes --------------------------------------------------------------------------------------------------

    def record(self, change: Change) -> None:
        """One transaction: the case item, the entry with its body parts, the outbox events, the timers the change
        sets or clears, and the case's text parts when the case is new (see ``record_all``)."""
        self.record_all([change])

    def record_all(self, changes: Sequence[Change]) -> None:
        """Changes to one or more cases (a merge changes two) in one transaction: all of them or none.

        Later changes leave a case's text parts in place, on condition that they are still the texts this version
        holds (``texts_sha256``). When they are not (a case stored before texts moved out of the case item, or a
        change to the texts themselves: a proposal's or a decision's reasons) the changes are written again with
        those texts.
        """
        if len({c.case.reference for c in changes}) != len(changes):
            raise ValueError("one change per case in a transaction: DynamoDB refuses two writes to one item")
        with_texts = {i for i, c in enumerate(changes) if c.expected_version is None}
        try:
            self._transact(changes, with_texts)
            return
        except ClientError as error:
            if not _first_cancellation_is_condition(error):
                raise
            cause = error
        # A condition failed: a reference taken, someone else's write, or texts to write again. Ask the stored items.
        retry_with_texts = set()
        for i, change in enumerate(changes):
            stored = self._stored_state(change.case.reference)
            if change.expected_version is None:
                if stored:
                    raise ReferenceTaken(change.case.reference) from cause
            elif stored.get("version") != change.expected_version:
                raise ConcurrentUpdate(change.case.reference) from cause
            elif stored.get("texts_sha256") != case_items(change.case)[0]["texts_sha256"]:
                retry_with_texts.add(i)
        if not retry_with_texts:
            raise ConcurrentUpdate(changes[0].case.reference) from cause
        try:
            self._transact(changes, with_texts | retry_with_texts)
        except ClientError as error:
            if _first_cancellation_is_condition(error):
                raise ConcurrentUpdate(changes[0].case.reference) from error
            raise

    def _transact(self, changes: Sequence[Change], with_texts: set[int]) -> None:
        items = [item for i, change in enumerate(changes) for item in self._writes(change, i in with_texts)]
        if len(items) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"{len(items)} writes do not fit in one transaction ({MAX_TRANSACTION_ITEMS} at most)")
        self.client.transact_write_items(TransactItems=items)

    def change_writes(self, change: Change) -> list[dict[str, Any]]:
        """The writes of ``record`` for one change, for a transaction that writes more (the mail log's)."""
        return self._writes(change, change.expected_version is None)

    def _writes(self, change: Change, with_case_texts: bool) -> list[dict[str, Any]]:
        case, case_parts = case_items(change.case)
        case_put: dict[str, Any] = {"TableName": self.table, "Item": _to_item(case)}
        if change.expected_version is None:
            case_put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            values = {":expected": change.expected_version}
            case_put["ConditionExpression"] = "version = :expected"
            if not with_case_texts:
                case_put["ConditionExpression"] += " AND texts_sha256 = :texts"
                values[":texts"] = case["texts_sha256"]
            case_put["ExpressionAttributeValues"] = _to_item(values)
        entry, *entry_parts = timeline_items(change.case.reference, change.entry)
        items = [{"Put": case_put}, {"Put": {
            "TableName": self.table, "Item": _to_item(entry), "ConditionExpression": "attribute_not_exists(pk)",
        }}]
        parts = (case_parts if with_case_texts else []) + entry_parts
        items += [{"Put": {"TableName": self.table, "Item": _to_item(p)}} for p in parts]
        items += [{"Put": {"TableName": self.table, "Item": _to_item(outbox_item(e))}} for e in change.events]
        items += [{"Put": {"TableName": self.table, "Item": _to_item(timer_item(change, t))}} for t in change.timers]
        return items

    def _stored_state(self, reference: str) -> dict[str, Any]:
        """The stored case's version and texts digest (empty when there is no such case)."""
        stored = self.client.get_item(
            TableName=self.table, Key=_to_item({"pk": case_pk(reference), "sk": "CASE"}),
            ProjectionExpression="version, texts_sha256", ConsistentRead=True,
        ).get("Item")
        return _from_item(stored) if stored else {}

    # -- reads ---------------------------------------------------------------------------------------------------

    def get(self, reference: str) -> Case:
        """The case item and its text parts (their sort keys begin with ``CASE``): one consistent query."""
        return _assemble(reference, self._query_partition(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :case)",
            ExpressionAttributeValues=_to_item({":pk": case_pk(reference), ":case": "CASE"}),
        )).case

    def get_with_timeline(self, reference: str) -> CaseRecord:
        """One strongly consistent query for the case, its timeline and their texts (outbox items are skipped)."""
        return _assemble(reference, self._query_partition(
            KeyConditionExpression="pk = :pk", FilterExpression="kind IN (:case, :timeline, :text)",
            ExpressionAttributeValues=_to_item({":pk": case_pk(reference), ":case": "case", ":timeline": "timeline",
                                                ":text": "text"}),
        ))

    def _query_partition(self, **query: Any) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True, **query}
        items: list[dict[str, Any]] = []
        while True:
            response = self.client.query(**kwargs)
            items += [_from_item(raw) for raw in response["Items"]]
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def list_cases(self, query: CaseQuery) -> CasePage:
        """Pick the index that narrows most; filter the rest. Pages may be short when a filter applies."""
        values: dict[str, Any] = {}
        filters: list[str] = []
        names: dict[str, str] = {}
        forward = True
        if query.owner:
            index, key = "by-owner", "owner_pk = :pk"
            values[":pk"] = f"OWNER#{query.owner}"
            prefix = ""
            if query.status:
                prefix = f"{query.status.value}#"
                if query.priority:
                    prefix += f"{PRIORITY_RANK[query.priority]}#"
            elif query.priority:
                filters.append("#case.priority = :priority")
            if prefix:
                key += " AND begins_with(owner_sk, :prefix)"
                values[":prefix"] = prefix
        elif query.status:
            index, key = "by-status", "status_pk = :pk"
            values[":pk"] = f"STATUS#{query.status.value}"
            if query.priority:
                key += " AND begins_with(status_sk, :prefix)"
                values[":prefix"] = f"{PRIORITY_RANK[query.priority]}#"
        else:
            index, key, forward = "by-received", "received_pk = :pk", False
            values[":pk"] = "CASES"
            if query.priority:
                filters.append("#case.priority = :priority")
        if filters:
            values[":priority"] = query.priority.value  # type: ignore[union-attr]
            names["#case"] = "case"
        kwargs: dict[str, Any] = {
            "TableName": self.table, "IndexName": index, "KeyConditionExpression": key,
            "ExpressionAttributeValues": _to_item(values), "Limit": query.limit, "ScanIndexForward": forward,
        }
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
            kwargs["ExpressionAttributeNames"] = names
        if query.cursor:
            kwargs["ExclusiveStartKey"] = _decode_cursor(query.cursor, index)
        try:
            response = self.client.query(**kwargs)
        except ClientError as error:
            if query.cursor and error.response["Error"]["Code"] == "ValidationException":
                raise InvalidCursor() from error
            raise
        items = [_listing_from(_from_item(raw)) for raw in response["Items"]]
        last = response.get("LastEvaluatedKey")
        return CasePage(items, _encode_cursor(last, index) if last else None)

    # -- outbox --------------------------------------------------------------------------------------------------

    def pending_events(self, older_than_iso: str, limit: int) -> list[DomainEvent]:
        response = self.client.query(
            TableName=self.table, IndexName="by-due",
            KeyConditionExpression="due_pk = :outbox AND due_sk < :cutoff",
            ExpressionAttributeValues=_to_item({":outbox": "OUTBOX", ":cutoff": older_than_iso}),
            Limit=limit,
        )
        events = []
        for key in response["Items"]:
            item = self.client.get_item(TableName=self.table, Key={"pk": key["pk"], "sk": key["sk"]}).get("Item")
            if item and "due_pk" in item:  # still pending: the index is eventually consistent
                events.append(DomainEvent.model_validate_json(_from_item(item)["event"]))
        return events

    def mark_published(self, events: Sequence[DomainEvent], at: datetime) -> None:
        for event in events:
            key = outbox_item(event)
            try:
                self.client.update_item(
                    TableName=self.table, Key=_to_item({"pk": key["pk"], "sk": key["sk"]}),
                    UpdateExpression="REMOVE due_pk, due_sk SET published_at = :now",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues=_to_item({":now": at.isoformat()}),
                )
            except ClientError as error:
                # Already expired and removed by TTL: nothing left to mark.
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise


def _assemble(reference: str, items: list[dict[str, Any]]) -> CaseRecord:
    """The case and its timeline from the partition's items, each with its texts put back from their parts."""
    parts: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if item["kind"] == "text":
            parts.setdefault(long_texts.owner_of(item["sk"]), []).append(item)
    case: Case | None = None
    timeline: list[TimelineEntry] = []
    for item in items:
        if item["kind"] == "case":
            case = _case_from(item, parts.get(item["sk"], []))
        elif item["kind"] == "timeline":
            timeline.append(_entry_from(item, parts.get(item["sk"], [])))
    if case is None:
        raise CaseNotFound(reference)
    timeline.sort(key=lambda e: e.seq)
    return CaseRecord(case, timeline)


def _listing_from(item: dict[str, Any]) -> CaseListing:
    """A queue's view of a case item, read from an index: the long texts are not there, and not needed."""
    doc = item["case"]
    return CaseListing.model_validate({**doc, "product_or_service": doc["submission"]["product_or_service"]})


def _first_cancellation_is_condition(error: ClientError) -> bool:
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons") or []
    if reasons:
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)
    return "ConditionalCheckFailed" in error.response["Error"].get("Message", "")


def _encode_cursor(last_key: dict[str, Any], index: str) -> str:
    payload = json.dumps({"i": index, "k": last_key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


INDEX_KEYS = {
    "by-status": {"pk", "sk", "status_pk", "status_sk"},
    "by-owner": {"pk", "sk", "owner_pk", "owner_sk"},
    "by-received": {"pk", "sk", "received_pk", "received_sk"},
}


def _decode_cursor(cursor: str, index: str) -> dict[str, Any]:
    """Accept only a key of the right index, in the shape DynamoDB gave it out (all string attributes)."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = payload["i"] == index and payload["k"]
        if not isinstance(key, dict) or set(key) != INDEX_KEYS[index]:
            raise ValueError("not a key of this index")
        for value in key.values():
            if not (isinstance(value, dict) and list(value) == ["S"] and isinstance(value["S"], str)
                    and value["S"] and value["S"].isprintable()):
                raise ValueError("not a string key")
        return key
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidCursor() from error
