"""The template's webhook, switched on by its parameters, on the real stack: a complaint filed over HTTP reaches the
organisation's endpoint as its CaseOpened event, with the key, through the template's own rule, connection, role and
API destination (under the local IAM check)."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.webhook_receiver import WebhookReceiver

from .conftest import ROOT

COMPLAINT = {
    "complainant": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "product_or_service": "Current account",
    "description": "I was charged twice for the same card payment and the bank has not refunded the second charge.",
    "remedy_sought": "A refund of the second charge",
    "preferred_contact_channel": "email",
}


@pytest.fixture(scope="module")
def hooked(dynamodb_endpoint, tmp_path_factory):
    from amends_local.stack import LocalStack

    with WebhookReceiver(tmp_path_factory.mktemp("webhook")) as receiver, pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", receiver.ca_file)
        parameters = {"WebhookEndpoint": receiver.url, "WebhookApiKey": "org-secret",
                      "WebhookApiKeyHeader": "X-Amends-Key", "WebhookEventTypes": "CaseOpened,CaseAssigned"}
        with LocalStack(ROOT, persist=False, api_port=0, smtp_port=0, dynamodb_endpoint=dynamodb_endpoint,
                        parameters=parameters, state_dir=tmp_path_factory.mktemp("hooked-state"), quiet=True) as stack:
            yield stack, receiver


def test_a_filed_complaint_reaches_the_webhook_as_its_case_opened_event(hooked) -> None:
    stack, receiver = hooked
    filed = requests.post(f"{stack.api_url}/complaints", json=COMPLAINT, timeout=30,
                          headers={"Idempotency-Key": str(uuid.uuid4())})
    assert filed.status_code == 201, filed.text
    reference = filed.json()["reference"]
    [request] = receiver.wait_for(lambda r: r.event["detail"].get("case_reference") == reference, timeout=60)
    assert request.headers["x-amends-key"] == "org-secret"
    event = request.event
    assert event["source"] == "amends.cases" and event["detail-type"] == "CaseOpened"
    stack.wait_until_idle(timeout=60)
    # Only the chosen types: the acknowledgement's CaseStatusChanged is not sent.
    assert {r.event["detail-type"] for r in receiver.requests
            if r.event["detail"].get("case_reference") == reference} == {"CaseOpened"}
