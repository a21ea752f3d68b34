"""What AWS authorizes for a call: the mapping the permission check uses, on the real template's resources."""

from __future__ import annotations

import pytest
from amends_local.iam_requests import AuthRequest, Resources, requests_for
from amends_local.template import Template

from .conftest import ROOT

TABLE = "arn:aws:dynamodb:eu-west-2:123456789012:table/amends-CasesTable"
VIA_DYNAMODB = (("kms:CallerAccount", "123456789012"), ("kms:ViaService", "dynamodb.eu-west-2.amazonaws.com"))


@pytest.fixture(scope="module")
def resources() -> Resources:
    return Resources.of(Template(ROOT / "template.yaml"), "eu-west-2", frozenset({"example.com"}))


@pytest.fixture(scope="module")
def key(resources) -> str:
    return resources.tables["amends-CasesTable"].key


def test_a_transaction_is_authorized_item_by_item(resources, key) -> None:
    items = [{"Put": {"TableName": "amends-CasesTable", "Item": {"pk": {"S": "CASE#A"}, "sk": {"S": "CASE"}}}},
             {"ConditionCheck": {"TableName": "amends-IdempotencyTable", "Key": {"id": {"S": "k"}},
                                 "ConditionExpression": "attribute_exists(id)"}}]
    assert requests_for("dynamodb", "TransactWriteItems", {"TransactItems": items}, resources) == [
        AuthRequest("dynamodb:PutItem", TABLE, (("dynamodb:LeadingKeys", ("CASE#A",)),)),
        AuthRequest("kms:Decrypt", key, VIA_DYNAMODB),
        AuthRequest("dynamodb:ConditionCheckItem", "arn:aws:dynamodb:eu-west-2:123456789012:table/amends-IdempotencyTable",
                    (("dynamodb:LeadingKeys", ("k",)),)),
        AuthRequest("kms:Decrypt", key, VIA_DYNAMODB),
    ]


def test_a_query_names_its_index_and_its_partition_key(resources) -> None:
    query = {"TableName": "amends-CasesTable", "IndexName": "by-status", "KeyConditionExpression": "#p = :pk",
             "ExpressionAttributeNames": {"#p": "status_pk"}, "ExpressionAttributeValues": {":pk": {"S": "STATUS#x"}}}
    first = requests_for("dynamodb", "Query", query, resources)[0]
    assert first == AuthRequest("dynamodb:Query", f"{TABLE}/index/by-status", (("dynamodb:LeadingKeys", ("STATUS#x",)),))


def test_a_batch_write_is_its_own_action_per_table(resources) -> None:
    writes = {"RequestItems": {"amends-CasesTable": [{"PutRequest": {"Item": {"pk": {"S": "a"}}}},
                                                     {"DeleteRequest": {"Key": {"pk": {"S": "b"}}}}]}}
    assert requests_for("dynamodb", "BatchWriteItem", writes, resources)[0] == AuthRequest(
        "dynamodb:BatchWriteItem", TABLE, (("dynamodb:LeadingKeys", ("a", "b")),))


def test_sending_to_an_encrypted_queue_needs_its_key_through_sqs(resources, key) -> None:
    url = "http://127.0.0.1:5000/123456789012/amends-NotificationsQueue"
    via = (("kms:CallerAccount", "123456789012"), ("kms:ViaService", "sqs.eu-west-2.amazonaws.com"))
    assert requests_for("sqs", "SendMessageBatch", {"QueueUrl": url, "Entries": []}, resources) == [
        AuthRequest("sqs:SendMessage", "arn:aws:sqs:eu-west-2:123456789012:amends-NotificationsQueue"),
        AuthRequest("kms:GenerateDataKey", key, via), AuthRequest("kms:Decrypt", key, via)]


def test_put_events_is_authorized_per_bus_with_its_source(resources) -> None:
    entries = [{"EventBusName": "amends-dev-cases", "Source": "amends.cases", "DetailType": "CaseOpened"}]
    assert requests_for("events", "PutEvents", {"Entries": entries}, resources) == [AuthRequest(
        "events:PutEvents", "arn:aws:events:eu-west-2:123456789012:event-bus/amends-dev-cases",
        (("events:source", "amends.cases"), ("events:detail-type", "CaseOpened")))]


def test_a_send_is_authorized_on_the_verified_identity_the_sender_belongs_to(resources) -> None:
    raw = b"From: Complaints <complaints@example.com>\nTo: ada@example.org\nSubject: x\n\nbody"
    (request,) = requests_for("ses", "SendRawEmail", {"Destinations": ["ada@example.org"], "RawMessage": {"Data": raw}},
                              resources)
    assert request.resource == "arn:aws:ses:eu-west-2:123456789012:identity/example.com"  # only the domain is verified
    assert dict(request.context) == {"ses:FromAddress": "complaints@example.com", "ses:FromDisplayName": "Complaints",
                                     "ses:Recipients": ("ada@example.org",)}


def test_any_other_call_is_its_operation_on_any_resource(resources) -> None:
    assert requests_for("xray", "PutTraceSegments", {}, resources) == [AuthRequest("xray:PutTraceSegments", "*")]
    assert requests_for("stepfunctions", "SendTaskSuccess", {"taskToken": "t"}, resources) == [
        AuthRequest("states:SendTaskSuccess", "*")]
