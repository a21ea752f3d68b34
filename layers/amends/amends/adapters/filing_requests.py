"""Complaints filed with an Idempotency-Key, kept beside Powertools' own idempotency records (the same table, the
same retention and encryption, no stream): ``id = filed#<sha256 of the key>``, written in the transaction that
writes the case, on condition that no unexpired item holds the key.

Powertools answers a retry from its record once the first invocation saved it. The item here covers the gap it
leaves: an invocation that wrote the case and then ran out of time (or failed saving Powertools' record) leaves that
record in progress until the function's deadline and then lets the retry run again; the retry's transaction then
finds this item and answers with the case the key filed, and its access token, instead of filing a second one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from amends.adapters.dynamodb import DynamoCaseRepository, _first_cancellation_is_condition, _from_item, _to_item
from amends.domain.model import Change
from amends.services.ports import FilingRequest, ReferenceTaken, RequestAlreadyFiled

ID_PREFIX = "filed#"


def request_item(request: FilingRequest) -> dict[str, Any]:
    return {"id": ID_PREFIX + request.key_hash, "request_hash": request.request_hash, "reference": request.reference,
            "access_token": request.access_token, "expiration": int(request.expires_at.timestamp())}


class DynamoFilingRequests:
    def __init__(self, cases: DynamoCaseRepository, table: str) -> None:
        self.cases = cases
        self.table = table
        self.client = cases.client

    def record_case(self, change: Change, request: FilingRequest, now: datetime) -> None:
        writes = self.cases.change_writes(change)
        writes.append({"Put": {
            "TableName": self.table, "Item": _to_item(request_item(request)),
            "ConditionExpression": "attribute_not_exists(id) OR expiration <= :now",
            "ExpressionAttributeValues": _to_item({":now": int(now.timestamp())}),
        }})
        try:
            self.client.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if not _first_cancellation_is_condition(error):
                raise
            filed = self.get(request.key_hash, now)
            if filed is not None:
                raise RequestAlreadyFiled(filed) from error
            raise ReferenceTaken(change.case.reference) from error

    def get(self, key_hash: str, now: datetime) -> FilingRequest | None:
        """What the key filed, unless it has expired (DynamoDB deletes expired items only some time later)."""
        item = self.client.get_item(TableName=self.table, Key=_to_item({"id": ID_PREFIX + key_hash}),
                                    ConsistentRead=True).get("Item")
        if not item:
            return None
        plain = _from_item(item)
        expires_at = datetime.fromtimestamp(int(plain["expiration"]), UTC)
        if expires_at <= now:
            return None
        return FilingRequest(key_hash=key_hash, request_hash=plain["request_hash"], reference=plain["reference"],
                             access_token=plain["access_token"], expires_at=expires_at)
