"""The lifecycle execution's side of the case table and of Step Functions.

The task token lives in an item of the case's partition (``sk = EXECUTION``), not in the case: it belongs to the
orchestration, not to the complaint, and writing it must not move the case's version. Clearing it removes only the
token, so the item keeps the generation that last held the case.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from amends.adapters.dynamodb import _from_item, _to_item, case_pk
from amends.services.orchestration import StatusChange, Superseded, Waiting

EXECUTION_SK = "EXECUTION"
# What SendTaskSuccess answers for a token nothing waits on any more: the task ended, timed out, or never was.
GONE = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


class DynamoExecutionTokens:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table = table_name
        self.client = client

    def _key(self, reference: str) -> dict[str, Any]:
        return _to_item({"pk": case_pk(reference), "sk": EXECUTION_SK})

    def keep(self, reference: str, waiting: Waiting) -> Waiting | None:
        item = {"pk": case_pk(reference), "sk": EXECUTION_SK, "kind": "execution", "task_token": waiting.token,
                "version": waiting.version, "generation": waiting.generation, "execution": waiting.execution}
        try:
            response = self.client.put_item(
                TableName=self.table, Item=_to_item(item), ReturnValues="ALL_OLD",
                ConditionExpression="attribute_not_exists(generation) OR generation <= :generation",
                ExpressionAttributeValues=_to_item({":generation": waiting.generation}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise Superseded(reference) from error
            raise
        return _waiting(response.get("Attributes"))

    def get(self, reference: str) -> Waiting | None:
        item = self.client.get_item(TableName=self.table, Key=self._key(reference), ConsistentRead=True).get("Item")
        return _waiting(item)

    def forget(self, reference: str, token: str) -> None:
        try:
            self.client.update_item(
                TableName=self.table, Key=self._key(reference), UpdateExpression="REMOVE task_token",
                ConditionExpression="task_token = :token", ExpressionAttributeValues=_to_item({":token": token}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise


def _waiting(item: dict[str, Any] | None) -> Waiting | None:
    if not item or "task_token" not in item:
        return None
    plain = _from_item(item)
    return Waiting(token=plain["task_token"], version=plain["version"], generation=plain["generation"],
                   execution=plain["execution"])


class DynamoStatusHistory:
    """Status changes read from the timeline: every entry records the fields its change set, status included."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table = table_name
        self.client = client

    def next_status_change(self, reference: str, after_version: int) -> StatusChange | None:
        # Timeline entries sort by version. Text parts of entries' bodies sort among them and are filtered out (they
        # have no entry); so is every entry that did not change the status.
        kwargs: dict[str, Any] = {
            "TableName": self.table, "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "FilterExpression": "attribute_exists(#entry.#after.#status)",
            "ProjectionExpression": "#entry.seq, #entry.#after.#status",
            "ExpressionAttributeNames": {"#entry": "entry", "#after": "after", "#status": "status"},
            "ExpressionAttributeValues": _to_item({":pk": case_pk(reference), ":first": f"TL#{after_version + 1:08d}",
                                                   ":last": "TL#99999999"}),
        }
        while True:
            response = self.client.query(**kwargs)
            if response["Items"]:
                entry = _from_item(response["Items"][0])["entry"]
                return StatusChange(version=entry["seq"], status=entry["after"]["status"])
            if "LastEvaluatedKey" not in response:
                return None
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class StepFunctionsCallbacks:
    def __init__(self, client: Any) -> None:
        self.client = client

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        try:
            self.client.send_task_success(taskToken=token, output=json.dumps(output))
        except ClientError as error:
            if error.response["Error"]["Code"] in GONE:
                return False
            raise
        return True


class StepFunctionsStarter:
    def __init__(self, state_machine_arn: str, client: Any) -> None:
        self.state_machine_arn = state_machine_arn
        self.client = client

    def start(self, name: str, execution_input: dict[str, Any]) -> bool:
        try:
            self.client.start_execution(stateMachineArn=self.state_machine_arn, name=name,
                                        input=json.dumps(execution_input, sort_keys=True))
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return False
            raise
        return True
