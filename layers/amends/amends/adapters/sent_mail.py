"""The record of sent mail, undeliverable addresses, automatic-mail counters and reply tokens, in the case table.

| item              | pk                          | sk                  | what                                          |
|-------------------|-----------------------------|---------------------|-----------------------------------------------|
| sent message      | ``SENT#<sha256 Message-ID>``| ``SENT``            | the case and kind of a message we sent        |
| letter            | ``LETTER#<sha256 letter>``  | ``SENT``            | a notification's letter went (its Message-ID; TTL) |
| undeliverable     | ``ADDR#<sha256 address>``   | ``UNDELIVERABLE``   | why the address is not mailed any more        |
| automatic counter | ``ADDR#<sha256 address>``   | ``AUTO#<hour>``     | automatic messages sent in that hour (TTL)    |
| reply token       | ``REPLYTO#<reference>``     | ``TOKEN``           | the case's token (random, made once)          |
| token's case      | ``RTOKEN#<token>``          | ``CASE``            | the reverse: the case a token was given for   |
| origin            | ``ORIGIN#<reference>``      | ``MAIL``            | the Message-ID and subject that opened a case |
| latest reply      | ``ORIGIN#<reference>``      | ``LATEST``          | the complainant's latest reply on the case    |

The last two are written by adapters/mail_log.py, in the transaction of the mail they record.

Addresses and Message-IDs are hashed in keys; the address itself is kept in the item for staff.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from amends.adapters.dynamodb import _from_item, _to_item
from amends.domain.sent_mail import SentMail, address_key, letter_key, message_id_key, new_reply_token

LETTER_KEPT = timedelta(days=15)  # SQS keeps a message 14 days at most


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DynamoSentMail:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table = table_name
        self.client = client

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, Key=_to_item({"pk": pk, "sk": sk}),
                                    ConsistentRead=True).get("Item")
        return _from_item(item) if item else None

    # ---- sent messages -------------------------------------------------------------------------------------
    def record_sent(self, sent: SentMail, letter: str | None = None) -> None:
        self.client.put_item(TableName=self.table, Item=_to_item(
            {"pk": f"SENT#{message_id_key(sent.message_id)}", "sk": "SENT", "sent": sent.model_dump(mode="json")}))
        if letter:  # kept as long as SQS may redeliver the event that asked for it
            self.client.put_item(TableName=self.table, Item=_to_item(
                {"pk": f"LETTER#{letter_key(letter)}", "sk": "SENT", "message_id": sent.message_id,
                 "expires_at": int((sent.sent_at + LETTER_KEPT).timestamp())}))

    def letter_sent(self, letter: str) -> str | None:
        item = self._get(f"LETTER#{letter_key(letter)}", "SENT")
        return f"<{item['message_id']}>" if item else None

    def find_sent(self, message_id: str) -> SentMail | None:
        item = self._get(f"SENT#{message_id_key(message_id)}", "SENT")
        return SentMail.model_validate(item["sent"]) if item else None

    # ---- the guard -----------------------------------------------------------------------------------------
    def undeliverable(self, address: str) -> str | None:
        item = self._get(f"ADDR#{address_key(address)}", "UNDELIVERABLE")
        return f"{item['reason']} (since {item['at']})" if item else None

    def mark_undeliverable(self, address: str, reason: str, at: datetime) -> None:
        self.client.put_item(TableName=self.table, Item=_to_item(
            {"pk": f"ADDR#{address_key(address)}", "sk": "UNDELIVERABLE", "address": address.lower(),
             "reason": reason[:1000], "at": _stamp(at)}))

    def take_automatic_slot(self, address: str, window_start: datetime, limit: int, expires_at: datetime) -> bool:
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_to_item({"pk": f"ADDR#{address_key(address)}", "sk": f"AUTO#{_stamp(window_start)}"}),
                UpdateExpression="ADD sent :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(sent) OR sent < :limit",
                ExpressionAttributeValues=_to_item({":one": 1, ":limit": limit,
                                                    ":expires": int(expires_at.timestamp())}))
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # ---- reply tokens and origins --------------------------------------------------------------------------
    def reply_token(self, reference: str) -> str:
        existing = self._get(f"REPLYTO#{reference}", "TOKEN")
        if existing:
            return str(existing["token"])
        token = new_reply_token()
        try:
            self.client.transact_write_items(TransactItems=[
                {"Put": {"TableName": self.table, "ConditionExpression": "attribute_not_exists(pk)",
                         "Item": _to_item({"pk": f"REPLYTO#{reference}", "sk": "TOKEN", "token": token})}},
                {"Put": {"TableName": self.table, "ConditionExpression": "attribute_not_exists(pk)",
                         "Item": _to_item({"pk": f"RTOKEN#{token}", "sk": "CASE", "case_reference": reference})}},
            ])
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            raced = self._get(f"REPLYTO#{reference}", "TOKEN")  # another sender made it first: theirs holds
            if raced is None:
                raise
            return str(raced["token"])
        return token

    def case_of_token(self, token: str) -> str | None:
        item = self._get(f"RTOKEN#{token.lower()}", "CASE")
        return str(item["case_reference"]) if item else None

    def origin_of(self, reference: str) -> tuple[str, str] | None:
        item = self._get(f"ORIGIN#{reference}", "MAIL")
        return (str(item["message_id"]), str(item.get("subject") or "")) if item else None

    def latest_reply(self, reference: str) -> str | None:
        item = self._get(f"ORIGIN#{reference}", "LATEST")
        return str(item["message_id"]) if item else None


def origin_item(reference: str, message_id: str, subject: str | None) -> dict[str, Any]:
    """Written with the case an email opens (adapters/mail_log.py), so the acknowledgement can answer that email."""
    return {"pk": f"ORIGIN#{reference}", "sk": "MAIL", "message_id": message_id, "subject": (subject or "")[:200]}


def latest_item(reference: str, message_id: str) -> dict[str, Any]:
    """Written with a reply added to the case (adapters/mail_log.py), so our next mail answers that reply."""
    return {"pk": f"ORIGIN#{reference}", "sk": "LATEST", "message_id": message_id}
