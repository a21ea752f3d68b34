"""The mail log and the Message-ID claims, in the case table (see amends.adapters.dynamodb for the case items).

| item         | pk                        | sk      | what                                                        |
|--------------|---------------------------|---------|-------------------------------------------------------------|
| mail log     | ``MAIL#<SES message id>`` | ``MAIL``  | what became of one inbound message                        |
| claim        | ``MSGID#<sha256>``        | ``CLAIM`` | the case a Message-ID opened (one case per Message-ID)    |
| origin       | ``ORIGIN#<reference>``    | ``MAIL``  | the Message-ID that opened a case (adapters/sent_mail.py) |
| latest reply | ``ORIGIN#<reference>``    | ``LATEST``| the Message-ID of the complainant's latest reply          |

A mail-log item is listed through ``by-received`` (``received_pk = MAIL``: every message) and ``by-status``
(``status_pk = MAIL#<outcome>``), both sorted by receipt time then SES id, read backwards for newest first.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from botocore.exceptions import ClientError

from amends.adapters.dynamodb import (
    DynamoCaseRepository,
    _decode_cursor,
    _encode_cursor,
    _first_cancellation_is_condition,
    _from_item,
    _to_item,
)
from amends.adapters.sent_mail import latest_item, origin_item
from amends.domain.errors import InvalidCursor
from amends.domain.mail_log import MailLogEntry, MailOutcome
from amends.domain.model import Change
from amends.services.ports import MailAlreadyClaimed, MailPage, MailQuery, ReferenceTaken


def mail_key(ses_message_id: str) -> dict[str, str]:
    return {"pk": f"MAIL#{ses_message_id}", "sk": "MAIL"}


def claim_key(message_id_key: str) -> dict[str, str]:
    return {"pk": f"MSGID#{message_id_key}", "sk": "CLAIM"}


def mail_item(entry: MailLogEntry) -> dict[str, Any]:
    order = f"{entry.received_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{entry.ses_message_id}"
    return {**mail_key(entry.ses_message_id), "received_pk": "MAIL", "received_sk": order,
            "status_pk": f"MAIL#{entry.outcome.value}", "status_sk": order, "entry": entry.model_dump(mode="json")}


class DynamoMailLog:
    def __init__(self, cases: DynamoCaseRepository) -> None:
        self.cases = cases
        self.table = cases.table
        self.client = cases.client

    def get(self, ses_message_id: str) -> MailLogEntry | None:
        item = self.client.get_item(TableName=self.table, Key=_to_item(mail_key(ses_message_id)),
                                    ConsistentRead=True).get("Item")
        return MailLogEntry.model_validate(_from_item(item)["entry"]) if item else None

    def record(self, entry: MailLogEntry) -> MailLogEntry:
        try:
            self.client.put_item(TableName=self.table, Item=_to_item(mail_item(entry)),
                                 ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return self.get(entry.ses_message_id) or entry
        return entry

    def record_case(self, change: Change, entry: MailLogEntry, *, message_id_key: str | None) -> MailLogEntry:
        writes = self.cases.change_writes(change)
        writes.append({"Put": {"TableName": self.table, "Item": _to_item(mail_item(entry)),
                               "ConditionExpression": "attribute_not_exists(pk)"}})
        if entry.message_id and entry.case_reference and change.expected_version is None:
            writes.append({"Put": {"TableName": self.table, "Item": _to_item(
                origin_item(entry.case_reference, entry.message_id, entry.subject))}})
        elif entry.message_id and entry.case_reference and entry.outcome is MailOutcome.ADDED_TO_CASE:
            writes.append({"Put": {"TableName": self.table, "Item": _to_item(
                latest_item(entry.case_reference, entry.message_id))}})
        if message_id_key:
            claim = {**claim_key(message_id_key), "case_reference": change.case.reference,
                     "ses_message_id": entry.ses_message_id}
            writes.append({"Put": {"TableName": self.table, "Item": _to_item(claim),
                                   "ConditionExpression": "attribute_not_exists(pk)"}})
        try:
            self.client.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if not _first_cancellation_is_condition(error):
                raise
            self._explain_refusal(change, entry, message_id_key, error)
        return entry

    def _explain_refusal(self, change: Change, entry: MailLogEntry, message_id_key: str | None,
                         error: ClientError) -> None:
        """Which condition failed, from the stored items (DynamoDB's cancellation reasons are not always given)."""
        if self.get(entry.ses_message_id) is not None:
            raise MailAlreadyClaimed(None, ses_message_id_seen=True) from error
        if message_id_key:
            claim = self.client.get_item(TableName=self.table, Key=_to_item(claim_key(message_id_key)),
                                         ConsistentRead=True).get("Item")
            if claim:
                raise MailAlreadyClaimed(_from_item(claim).get("case_reference")) from error
        raise ReferenceTaken(change.case.reference) from error

    def settle(self, entry: MailLogEntry, *, was: MailOutcome) -> MailLogEntry:
        try:
            self.client.put_item(TableName=self.table, Item=_to_item(mail_item(entry)),
                                 ConditionExpression="#entry.#outcome = :was",
                                 ExpressionAttributeNames={"#entry": "entry", "#outcome": "outcome"},
                                 ExpressionAttributeValues=_to_item({":was": was.value}))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return self.get(entry.ses_message_id) or entry
        return entry

    def list_mail(self, query: MailQuery) -> MailPage:
        if query.outcome:
            index, key, value = "by-status", "status_pk = :pk", f"MAIL#{query.outcome.value}"
        else:
            index, key, value = "by-received", "received_pk = :pk", "MAIL"
        kwargs: dict[str, Any] = {"TableName": self.table, "IndexName": index, "KeyConditionExpression": key,
                                  "ExpressionAttributeValues": _to_item({":pk": value}), "Limit": query.limit,
                                  "ScanIndexForward": False}
        if query.cursor:
            kwargs["ExclusiveStartKey"] = _decode_cursor(query.cursor, index)
        try:
            response = self.client.query(**kwargs)
        except ClientError as error:
            if query.cursor and error.response["Error"]["Code"] == "ValidationException":
                raise InvalidCursor() from error
            raise
        items = [MailLogEntry.model_validate(_from_item(raw)["entry"]) for raw in response["Items"]]
        last = response.get("LastEvaluatedKey")
        return MailPage(items, _encode_cursor(last, index) if last else None)
