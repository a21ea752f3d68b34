"""The timer sweep's view of the case table: set timers in the ``by-due`` index, claimed and settled in place.

Timer items are written with the change that sets them (``amends.adapters.dynamodb.timer_item``). The index is
KEYS_ONLY, which is enough: the key (``pk``/``sk``) names the case and the timer and ``due_sk`` holds the due time.
Every write here is conditional on ``due_sk`` still being the one the sweep read, so a timer moved or cleared since
(the index is eventually consistent) is left alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from amends.adapters.dynamodb import TIMER_SHARDS, _to_item, case_pk, due_key
from amends.services.timers import DueTimer


class DynamoTimerStore:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table = table_name
        self.client = client

    def due(self, now: datetime, limit: int) -> list[DueTimer]:
        # "$" sorts just after "#": every key of a timer due at or before now, whatever its reference.
        before = f"{due_key(now)}$"
        found: list[DueTimer] = []
        for shard in range(TIMER_SHARDS):  # the earliest `limit` of each shard hold the earliest `limit` of all
            kwargs: dict[str, Any] = {
                "TableName": self.table, "IndexName": "by-due",
                "KeyConditionExpression": "due_pk = :shard AND due_sk < :before",
                "ExpressionAttributeValues": _to_item({":shard": f"TIMER#{shard}", ":before": before}),
            }
            from_shard: list[DueTimer] = []
            while len(from_shard) < limit:
                response = self.client.query(**kwargs, Limit=limit - len(from_shard))
                from_shard += [_due_timer(key) for key in response["Items"]]
                if "LastEvaluatedKey" not in response:
                    break
                kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            found += from_shard
        return sorted(found, key=lambda t: t.due_at)[:limit]

    def claim(self, timer: DueTimer, now: datetime, until: datetime) -> bool:
        return self._update(
            timer, "SET claimed_until = :until",
            "due_sk = :due_sk AND (attribute_not_exists(claimed_until) OR claimed_until < :now)",
            {":until": due_key(until), ":now": due_key(now)},  # fixed width, so string order is time order
        )

    def settle(self, timer: DueTimer, at: datetime, outcome: str) -> None:
        self._update(timer, "REMOVE due_pk, due_sk, claimed_until SET settled_at = :at, outcome = :outcome",
                     "due_sk = :due_sk", {":at": at.isoformat(), ":outcome": outcome})

    def _update(self, timer: DueTimer, update: str, condition: str, values: dict[str, Any]) -> bool:
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_to_item({"pk": case_pk(timer.reference), "sk": f"TIMER#{timer.name}"}),
                UpdateExpression=update, ConditionExpression=condition,
                ExpressionAttributeValues=_to_item({
                    **values, ":due_sk": f"{due_key(timer.due_at)}#{timer.reference}#{timer.name}"}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _due_timer(key: dict[str, Any]) -> DueTimer:
    """A timer from its index key: ``due_sk`` is ``<due>#<reference>#<name>``."""
    due, reference, name = key["due_sk"]["S"].split("#")
    return DueTimer(reference=reference, name=name, due_at=datetime.strptime(due, "%Y-%m-%dT%H:%M:%S.%f%z"))
