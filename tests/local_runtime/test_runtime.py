"""The runtime on the fixture stack: every trigger it emulates, with AWS's semantics."""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from .conftest import aws


def eventually(check, timeout: float = 15, interval: float = 0.1):
    """Poll ``check`` until it returns something truthy; its last value otherwise fails the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, f"not true within {timeout}s"
            return value
        time.sleep(interval)


def item(stack, pk: str) -> dict | None:
    return (
        aws(stack, "dynamodb")
        .get_item(TableName="amends-ItemsTable", Key={"pk": {"S": pk}}, ConsistentRead=True)
        .get("Item")
    )


def receive_all(stack, queue_id: str) -> list[dict]:
    sqs = aws(stack, "sqs")
    url = stack.template.queues()[queue_id].url
    return sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=0
    ).get("Messages", [])


def put_event(stack, source: str, detail_type: str, detail: dict) -> None:
    bus = stack.template.event_buses()["Bus"].name
    result = aws(stack, "events").put_events(
        Entries=[
            {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": bus}
        ]
    )
    assert result["FailedEntryCount"] == 0


def test_everything_the_template_declares_exists(fixture_stack) -> None:
    report = fixture_stack.provisioned
    assert set(fixture_stack.template.resources) <= set(report)
    assert report["TickFunctionHourly"].startswith(
        "rule amends-TickFunctionHourly"
    )  # a rule SAM would create
    table = aws(fixture_stack, "dynamodb").describe_table(TableName="amends-ItemsTable")["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by-kind"]
    attributes = aws(fixture_stack, "sqs").get_queue_attributes(
        QueueUrl=fixture_stack.template.queues()["EchoQueue"].url, AttributeNames=["All"]
    )["Attributes"]
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 2
    assert attributes["VisibilityTimeout"] == "1"
    names = {
        r["Name"] for r in aws(fixture_stack, "events").list_rules(EventBusName="fixture-test-bus")["Rules"]
    }
    assert {"amends-AuditRule", "amends-BusFunctionPinged", "amends-OrderMachineOrderPlaced"} <= names
    assert "sender@example.com" in aws(fixture_stack, "ses").list_identities()["Identities"]


def test_handlers_get_their_environment_and_endpoints(fixture_stack) -> None:
    seen = fixture_stack.functions.invoke("SleeperFunction", {"environment": True})["environment"]
    assert seen["TABLE_NAME"] == "amends-ItemsTable"
    assert seen["AWS_ENDPOINT_URL"] == fixture_stack.moto_endpoint
    assert seen["AWS_ENDPOINT_URL_DYNAMODB"] == fixture_stack.dynamodb_endpoint
    # The handlers' environment stays theirs (the session's stack may have set a TABLE_NAME of its own here).
    assert os.environ.get("TABLE_NAME") != "amends-ItemsTable"
    result = fixture_stack.functions.invoke("StepFunction", {"order": "fine"})
    assert result["accepted"] == "fine" and 0 < result["remaining_ms"] <= 5000


def test_sqs_partial_batch_failure_deletes_only_successes_and_redrives_failures(fixture_stack) -> None:
    sqs = aws(fixture_stack, "sqs")
    url = fixture_stack.template.queues()["EchoQueue"].url
    ok, bad = uuid.uuid4().hex, uuid.uuid4().hex
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok", "MessageBody": json.dumps({"id": ok})},
            {"Id": "bad", "MessageBody": json.dumps({"id": bad, "fail": True})},
        ],
    )
    stored = eventually(lambda: item(fixture_stack, f"echo#{ok}"))
    # Usually "1"; a batch still running after the 1-second visibility timeout sees its message again, as in SQS.
    assert stored["function"]["S"] == "amends-EchoFunction" and int(stored["receive_count"]["S"]) >= 1
    # Reported failed twice (visibility timeout 1 s), then moved to the DLQ by SQS's redrive policy.
    dead = eventually(
        lambda: [m for m in receive_all(fixture_stack, "EchoDLQ") if bad in m["Body"]], timeout=20
    )
    assert json.loads(dead[0]["Body"]) == {"id": bad, "fail": True}
    assert item(fixture_stack, f"echo#{bad}") is None


def test_sqs_handler_exception_returns_the_whole_batch(fixture_stack) -> None:
    sqs = aws(fixture_stack, "sqs")
    url = fixture_stack.template.queues()["EchoQueue"].url
    marker = uuid.uuid4().hex
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": marker, "explode": True}))
    dead = eventually(
        lambda: [m for m in receive_all(fixture_stack, "EchoDLQ") if marker in m["Body"]], timeout=20
    )
    assert len(dead) == 1


def test_stream_delivers_filtered_records_and_sends_exhausted_ones_to_the_failure_queue(
    fixture_stack,
) -> None:
    ddb = aws(fixture_stack, "dynamodb")
    good, skipped, poison = (f"{name}#{uuid.uuid4().hex}" for name in ("good", "skipped", "poison"))
    ddb.put_item(TableName="amends-ItemsTable", Item={"pk": {"S": good}, "kind": {"S": "record"}})
    ddb.put_item(TableName="amends-ItemsTable", Item={"pk": {"S": skipped}, "kind": {"S": "other"}})
    ddb.put_item(
        TableName="amends-ItemsTable",
        Item={"pk": {"S": poison}, "kind": {"S": "record"}, "poison": {"BOOL": True}},
    )
    seen = eventually(lambda: item(fixture_stack, f"seen#{good}"))
    assert seen["event_name"]["S"] == "INSERT" and seen["source"]["S"] == "aws:dynamodb"

    def failure_record():
        for message in receive_all(fixture_stack, "StreamDLQ"):
            record = json.loads(message["Body"])
            if record["DDBStreamBatchInfo"]["batchSize"] == 1:
                return record
        return None

    record = eventually(failure_record)
    info = record["DDBStreamBatchInfo"]
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["functionArn"].endswith(":function:amends-StreamFunction")
    assert info["startSequenceNumber"] == info["endSequenceNumber"] and info["shardId"] and info["streamArn"]
    fixture_stack.wait_until_idle(timeout=20)
    assert item(fixture_stack, f"seen#{skipped}") is None  # filtered out: the function never saw it
    assert item(fixture_stack, f"seen#{poison}") is None


def test_schedules_fire_by_the_runtime_clock(fixture_stack) -> None:
    def ticks() -> list[dict]:
        found = aws(fixture_stack, "dynamodb").query(
            TableName="amends-ItemsTable",
            IndexName="by-kind",
            KeyConditionExpression="kind = :k",
            ExpressionAttributeValues={":k": {"S": "tick"}},
        )["Items"]
        return found

    before = len(ticks())
    assert fixture_stack.fire_schedules_now("TickFunctionHourly") == 1
    eventually(lambda: len(ticks()) == before + 1)
    fixture_stack.clock.advance(timedelta(minutes=30))
    time.sleep(0.5)
    assert len(ticks()) == before + 1  # not due yet: rate(1 hour)
    fixture_stack.clock.advance(timedelta(minutes=31))
    eventually(lambda: len(ticks()) == before + 2)
    tick = max((item(fixture_stack, t["pk"]["S"]) for t in ticks()), key=lambda t: t["time"]["S"])
    assert tick["detail_type"]["S"] == "Scheduled Event"
    assert tick["rule"]["S"] == fixture_stack.template.rules()["TickFunctionHourly"].arn
    assert float(tick["clock_offset"]["S"]) >= 3660


def test_rule_starts_the_state_machine_whose_task_error_is_caught_by_name(fixture_stack) -> None:
    sfn = aws(fixture_stack, "stepfunctions")
    arn = fixture_stack.template.state_machines()["OrderMachine"].arn
    before = {e["executionArn"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]}
    put_event(fixture_stack, "fixture.orders", "OrderPlaced", {"order": "bad"})
    put_event(fixture_stack, "fixture.orders", "OrderPlaced", {"order": "good"})
    fixture_stack.wait_until_idle(timeout=30)
    new = [
        e for e in sfn.list_executions(stateMachineArn=arn)["executions"] if e["executionArn"] not in before
    ]
    outputs = sorted(
        json.loads(sfn.describe_execution(executionArn=e["executionArn"])["output"]).__repr__() for e in new
    )
    assert [e["status"] for e in new] == ["SUCCEEDED", "SUCCEEDED"]
    assert any("'rejected': 'ItemRejected'" in o for o in outputs)
    assert any("'accepted': 'good'" in o for o in outputs)
    # moto delivered the same events to the plain SQS target itself.
    audited = [json.loads(m["Body"])["detail"] for m in receive_all(fixture_stack, "AuditQueue")]
    assert {"order": "bad"} in audited and {"order": "good"} in audited


def test_lambda_invoke_api_reports_the_handler_error_type(fixture_stack) -> None:
    response = aws(fixture_stack, "lambda").invoke(
        FunctionName="amends-StepFunction", Payload=json.dumps({"order": "bad"}).encode()
    )
    assert response["FunctionError"] == "Unhandled"
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "ItemRejected" and payload["errorMessage"] == "order is bad"
    with pytest.raises(ClientError):
        aws(fixture_stack, "lambda").invoke(FunctionName="amends-NoSuchFunction", Payload=b"{}")


def test_a_function_error_is_lambdas_to_retry_and_send_to_its_failure_destination(fixture_stack) -> None:
    n = uuid.uuid4().hex
    put_event(fixture_stack, "fixture.pings", "Ping", {"fail": True, "n": n})
    failed = eventually(lambda: [m for m in receive_all(fixture_stack, "AsyncDLQ") if n in m["Body"]])
    record = json.loads(failed[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2  # MaximumRetryAttempts: 1
    assert record["requestContext"]["functionArn"].startswith(
        fixture_stack.template.functions()["BusFunction"].arn
    )
    assert record["responsePayload"]["errorType"] == "PingFailed"
    assert record["responseContext"]["functionError"] == "Unhandled"
    event = record["requestPayload"]
    assert (
        event["source"] == "fixture.pings"
        and event["detail"]["n"] == n
        and event["account"] == "123456789012"
    )
    fixture_stack.wait_until_idle(timeout=20)
    assert not [
        m for m in receive_all(fixture_stack, "RuleDLQ") if n in m["Body"]
    ]  # EventBridge delivered it


def test_an_undeliverable_event_goes_to_the_rule_dead_letter_queue_with_eventbridge_attributes(
    fixture_stack,
) -> None:
    n = uuid.uuid4().hex
    put_event(fixture_stack, "fixture.ghosts", "Boo", {"n": n})
    dead = eventually(lambda: [m for m in receive_all(fixture_stack, "RuleDLQ") if n in m["Body"]])
    attributes = {k: v["StringValue"] for k, v in dead[0]["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "ResourceNotFoundException"
    assert "amends-Ghost" in attributes["ERROR_MESSAGE"]
    assert attributes["RULE_ARN"] == fixture_stack.template.rules()["GhostRule"].arn
    assert attributes["TARGET_ARN"].endswith(":function:amends-Ghost")
    assert json.loads(dead[0]["Body"])["detail"] == {"n": n}


def test_describe_names_the_endpoints(fixture_stack) -> None:
    text = "\n".join(fixture_stack.describe())
    assert fixture_stack.moto_endpoint in text and str(fixture_stack.dynamodb_endpoint) in text
