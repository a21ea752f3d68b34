"""API destinations (webhooks) as EventBridge calls them: the event as the JSON body of an HTTPS request with the
connection's key, retried on 5xx and 429 but not on other 4xx, only where the target's role may invoke the
destination, and dead-lettered with the reason when it cannot be delivered."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from amends_local.api_destinations import Caller, Refused, Retried
from amends_local.template import ApiDestination

from tests.local_runtime.conftest import FIXTURES, aws
from tests.webhook_receiver import WebhookReceiver


@pytest.fixture(scope="module")
def receiver(tmp_path_factory):
    with WebhookReceiver(tmp_path_factory.mktemp("webhook")) as running:
        yield running


@pytest.fixture(scope="module")
def webhook_stack(receiver, dynamodb_endpoint, tmp_path_factory):
    from amends_local.stack import LocalStack

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", receiver.ca_file)  # trust the receiver's own certificate, verify as ever
        with LocalStack(FIXTURES, template=FIXTURES / "webhooks.yaml", persist=False, api_port=None,
                        dynamodb_endpoint=dynamodb_endpoint, parameters={"Endpoint": receiver.url},
                        state_dir=tmp_path_factory.mktemp("state"), quiet=True) as stack:
            yield stack


def put(stack, source: str, **detail) -> str:
    mark = uuid.uuid4().hex
    aws(stack, "events").put_events(Entries=[{"EventBusName": "hooks", "Source": source, "DetailType": "HookTest",
                                             "Detail": json.dumps({"mark": mark, **detail})}])
    return mark


def dead_letters(stack, mark: str, timeout: float = 20.0) -> list[dict]:
    sqs = aws(stack, "sqs")
    url = sqs.get_queue_url(QueueName="amends-HookDLQ")["QueueUrl"]
    deadline = time.monotonic() + timeout
    found: list[dict] = []
    while not found and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           MessageAttributeNames=["All"]).get("Messages", []):
            if json.loads(message["Body"])["detail"]["mark"] == mark:
                found.append(message)
            else:  # another test's: leave it
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                              VisibilityTimeout=0)
    return found


def marked(mark: str):
    return lambda r: r.event["detail"]["mark"] == mark


def test_an_event_reaches_the_endpoint_as_eventbridge_sends_it(webhook_stack, receiver) -> None:
    mark = put(webhook_stack, "tests.hooks", case_reference="CMP-2026-7K3F9Q")
    [request] = receiver.wait_for(marked(mark))
    assert request.method == "POST" and request.path == "/hooks/amends"
    assert request.headers["x-api-key"] == "local-secret" and request.headers["x-tenant"] == "local"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["user-agent"] == "Amazon/EventBridge/ApiDestinations"
    event = request.event
    assert event["source"] == "tests.hooks" and event["detail-type"] == "HookTest"
    assert event["detail"]["case_reference"] == "CMP-2026-7K3F9Q" and event["account"] == "123456789012"


def test_a_5xx_or_429_answer_is_retried_until_the_endpoint_takes_it(webhook_stack, receiver) -> None:
    mark = put(webhook_stack, "tests.hooks", answers=[503, 429, 200])
    assert len(receiver.wait_for(marked(mark), count=3)) == 3
    time.sleep(1)
    assert len(receiver.wait_for(marked(mark), count=4, timeout=0)) == 3  # delivered: no fourth attempt
    assert dead_letters(webhook_stack, mark, timeout=2) == []


def test_a_4xx_answer_is_not_retried_and_the_event_is_dead_lettered_with_the_status(webhook_stack, receiver) -> None:
    mark = put(webhook_stack, "tests.hooks", answers=[400])
    [message] = dead_letters(webhook_stack, mark)
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "SDK_CLIENT_ERROR" and "HTTP 400" in attributes["ERROR_MESSAGE"]
    assert attributes["RULE_ARN"].endswith(":rule/hooks/amends-HookRule")
    assert ":api-destination/amends-HookDestination/" in attributes["TARGET_ARN"]
    assert len(receiver.requests and receiver.wait_for(marked(mark), timeout=0)) == 1


def test_retries_that_run_out_dead_letter_the_event(webhook_stack, receiver) -> None:
    mark = put(webhook_stack, "tests.hooks", answers=[502])
    [message] = dead_letters(webhook_stack, mark)
    assert "HTTP 502" in message["MessageAttributes"]["ERROR_MESSAGE"]["StringValue"]
    assert len(receiver.wait_for(marked(mark), timeout=0)) == 4  # the first attempt and MaximumRetryAttempts: 3


def test_a_role_not_allowed_to_invoke_the_destination_sends_nothing(webhook_stack, receiver) -> None:
    mark = put(webhook_stack, "tests.elsewhere")
    [message] = dead_letters(webhook_stack, mark)
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "NO_PERMISSIONS"
    assert "assumed-role/amends-ElsewhereRole/events is not authorized to perform: events:InvokeApiDestination" in \
        attributes["ERROR_MESSAGE"]
    assert receiver.wait_for(marked(mark), timeout=0) == []


def destination(url: str, rate: int | None = None) -> ApiDestination:
    return ApiDestination("Hook", "arn:aws:events:eu-west-2:123456789012:api-destination/hook/x", url, "POST", rate,
                          (("X-Api-Key", "k"),), (("tenant", "local"),))


def test_calls_are_paced_to_the_destinations_rate_limit(receiver, monkeypatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", receiver.ca_file)
    caller = Caller(destination(receiver.url, rate=4))
    started = time.monotonic()
    for n in range(3):
        assert caller.call({"id": f"paced-{n}", "detail": {"mark": "paced"}}) == 200
    assert time.monotonic() - started >= 0.5  # three calls at 4 a second: the third waits for its slot
    assert all(r.path == "/hooks/amends?tenant=local" for r in receiver.wait_for(marked("paced"), count=3))


def test_an_endpoint_whose_certificate_is_not_trusted_is_not_called(receiver, monkeypatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(Retried, match="CERTIFICATE_VERIFY_FAILED"):
        Caller(destination(receiver.url)).call({"id": "untrusted", "detail": {"mark": "untrusted"}})
    assert receiver.wait_for(marked("untrusted"), timeout=0) == []


def test_which_answers_are_retried(receiver, monkeypatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", receiver.ca_file)
    caller = Caller(destination(receiver.url))
    for status in (401, 407, 409, 429, 500, 503):
        with pytest.raises(Retried, match=f"HTTP {status}"):
            caller.call({"id": f"retried-{status}", "detail": {"mark": "codes", "answers": [status]}})
    for status in (400, 403, 404, 413):
        with pytest.raises(Refused, match=f"HTTP {status}"):
            caller.call({"id": f"refused-{status}", "detail": {"mark": "codes", "answers": [status]}})
    assert caller.call({"id": "accepted", "detail": {"mark": "codes", "answers": [202]}}) == 202
