"""Permissions: each function's AWS calls are authorized against the policy the template gives it, as in AWS.

GuardedFunction (fixture template) may GetItem and Query ItemsTable (an inline statement) and send to GuardedQueue
(SAM's SQSSendMessagePolicy template); anything else it tries is refused with the service's own error.
"""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from .conftest import aws

ACCOUNT = "123456789012"
ROLE = f"arn:aws:sts::{ACCOUNT}:assumed-role/amends-GuardedFunctionRole/amends-GuardedFunction"


def call(stack, service: str, operation: str, **params):
    return stack.functions.invoke("GuardedFunction", {"service": service, "operation": operation, "params": params})


def refused(answer: dict, code: str, action: str, resource: str | None) -> None:
    """Refused as AWS refuses: the service's error code, and AWS's sentence naming the role's session (the
    function), the action and the resource."""
    assert answer.get("error") == "ClientError", answer
    assert answer["code"] == code
    on = f" on resource: {resource}" if resource else ""
    assert answer["message"] == (f"User: {ROLE} is not authorized to perform: {action}{on} "
                                 f"because no identity-based policy allows the {action} action")


def test_a_call_an_inline_statement_allows_goes_through(fixture_stack) -> None:
    table = fixture_stack.template.tables()["ItemsTable"].name
    assert call(fixture_stack, "dynamodb", "GetItem", TableName=table, Key={"pk": {"S": "nothing"}}) == {
        "ok": ["ResponseMetadata"]}


def test_another_table_is_refused(fixture_stack) -> None:
    answer = call(fixture_stack, "dynamodb", "GetItem", TableName="amends-Elsewhere", Key={"pk": {"S": "x"}})
    refused(answer, "AccessDeniedException", "dynamodb:GetItem",
            f"arn:aws:dynamodb:eu-west-2:{ACCOUNT}:table/amends-Elsewhere")
    assert answer["status"] == 400


def test_a_query_on_an_index_never_granted_is_refused_on_the_index(fixture_stack) -> None:
    table = fixture_stack.template.tables()["ItemsTable"]
    query = {"TableName": table.name, "KeyConditionExpression": "kind = :k",
             "ExpressionAttributeValues": {":k": {"S": "record"}}}
    assert "ok" in call(fixture_stack, "dynamodb", "Query", **{**query, "KeyConditionExpression": "pk = :k"})
    refused(call(fixture_stack, "dynamodb", "Query", IndexName="by-kind", **query),
            "AccessDeniedException", "dynamodb:Query", f"{table.arn}/index/by-kind")


def test_a_bucket_is_refused_with_s3s_own_error(fixture_stack) -> None:
    answer = call(fixture_stack, "s3", "GetObject", Bucket="amends-reports", Key="2026/summary.pdf")
    refused(answer, "AccessDenied", "s3:GetObject", "arn:aws:s3:::amends-reports/2026/summary.pdf")
    assert answer["status"] == 403


def test_send_task_success_is_refused(fixture_stack) -> None:
    """An action on no particular resource: AWS's message names none."""
    answer = call(fixture_stack, "stepfunctions", "SendTaskSuccess", taskToken="t" * 10, output="{}")
    refused(answer, "AccessDeniedException", "states:SendTaskSuccess", None)


def test_a_sam_policy_template_is_honoured(fixture_stack) -> None:
    """SQSSendMessagePolicy, as SAM expands it, allows sending to its queue and to no other."""
    queues = fixture_stack.template.queues()
    body = json.dumps({"id": str(uuid.uuid4())})
    assert "ok" in call(fixture_stack, "sqs", "SendMessage", QueueUrl=queues["GuardedQueue"].url, MessageBody=body)
    answer = call(fixture_stack, "sqs", "SendMessage", QueueUrl=queues["AuditQueue"].url, MessageBody=body)
    refused(answer, "AccessDenied", "sqs:SendMessage", queues["AuditQueue"].arn)


def test_warn_mode_lets_a_refused_call_through_and_logs_it(fixture_stack, caplog) -> None:
    table = fixture_stack.template.tables()["ItemsTable"]
    assert fixture_stack.iam.mode == "enforce"
    refused(call(fixture_stack, "dynamodb", "DescribeTable", TableName=table.name),
            "AccessDeniedException", "dynamodb:DescribeTable", table.arn)
    fixture_stack.iam.mode = "warn"
    try:
        with caplog.at_level(logging.WARNING, logger="amends_local.iam"):
            answer = call(fixture_stack, "dynamodb", "DescribeTable", TableName=table.name)
    finally:
        fixture_stack.iam.mode = "enforce"
    assert answer == {"ok": ["ResponseMetadata", "Table"]}
    warnings = [r.getMessage() for r in caplog.records if r.name == "amends_local.iam"]
    assert any("GuardedFunction" in w and "dynamodb:DescribeTable" in w and table.arn in w for w in warnings), warnings


def test_eventbridge_delivers_to_a_queue_only_where_its_policy_lets_the_rule_in(fixture_stack) -> None:
    """UnwelcomeQueue's policy admits events.amazonaws.com for AuditRule only: UnwelcomeRule's event is not
    delivered, nor retried, but dead-lettered with EventBridge's NO_PERMISSIONS."""
    marker = str(uuid.uuid4())
    bus = fixture_stack.template.event_buses()["Bus"].name
    aws(fixture_stack, "events").put_events(Entries=[
        {"Source": "fixture.unwelcome", "DetailType": "Knock", "Detail": json.dumps({"marker": marker}),
         "EventBusName": bus}])
    fixture_stack.wait_until_idle(timeout=30)
    sqs = aws(fixture_stack, "sqs")
    queues = fixture_stack.template.queues()
    dead = [m for m in _drain(sqs, queues["RuleDLQ"].url) if marker in m["Body"]]
    assert len(dead) == 1
    attributes = {k: v["StringValue"] for k, v in dead[0]["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "NO_PERMISSIONS"
    assert attributes["RULE_ARN"] == fixture_stack.template.rules()["UnwelcomeRule"].arn
    assert "events.amazonaws.com is not authorized to perform: sqs:SendMessage" in attributes["ERROR_MESSAGE"]
    assert not [m for m in _drain(sqs, queues["UnwelcomeQueue"].url) if marker in m["Body"]]


def _drain(sqs, url: str) -> list[dict]:
    out = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                       WaitTimeSeconds=0).get("Messages", []):
        out += batch
    return out


@pytest.mark.parametrize("mode", ["enforce", "warn"])
def test_the_mode_is_the_stacks_choice(mode) -> None:
    from amends_local.stack import LocalStack

    from .conftest import FIXTURES

    assert LocalStack(FIXTURES, persist=False, api_port=None, iam=mode).iam_mode == mode


def test_ses_sends_only_as_the_verified_sender_the_policy_names(fixture_stack) -> None:
    """The SenderAddress parameter is the identity verified beforehand; the policy lets the function send as it
    (``ses:FromAddress``), and SES's classic API words the refusal its own way."""
    mail = {"Destination": {"ToAddresses": ["ada@example.com"]},
            "Message": {"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "Hi"}}}}
    assert call(fixture_stack, "ses", "SendEmail", Source="sender@example.com", **mail) == {
        "ok": ["MessageId", "ResponseMetadata"]}
    answer = call(fixture_stack, "ses", "SendEmail", Source="someone@example.com", **mail)
    assert (answer["code"], answer["status"]) == ("AccessDenied", 403)
    assert answer["message"] == (f"User `{ROLE}' is not authorized to perform `ses:SendEmail' on resource "
                                 f"`arn:aws:ses:eu-west-2:{ACCOUNT}:identity/someone@example.com'")


def test_only_identities_a_deployment_could_send_from_are_verified(monkeypatch) -> None:
    from amends_local.provision import verified_identities
    from amends_local.template import Template

    from .conftest import FIXTURES

    fixture = Template(FIXTURES / "template.yaml")
    monkeypatch.delenv("AMENDS_SES_IDENTITIES", raising=False)
    assert verified_identities(fixture) == {"sender@example.com"}  # SenderAddress, verified beforehand
    monkeypatch.setenv("AMENDS_SES_IDENTITIES", "example.com, news@example.org")
    assert verified_identities(fixture) == {"example.com", "news@example.org"}
    monkeypatch.setenv("AMENDS_SES_IDENTITIES", "")
    assert verified_identities(fixture) == set()
