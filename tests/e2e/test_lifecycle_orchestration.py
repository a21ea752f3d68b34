"""The CaseLifecycle state machine for the life of a case, on the local stack: moto's interpreter runs the real ASL,
AwaitChange waits on a task token, and the callback comes from the change's outbox event (stream → bus → queue →
lifecycle callback function). Complaints are filed over HTTP; the later changes go through the domain and the
repository, as the staff API will make them. Each test reads the execution's history."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from amends import wiring
from amends.adapters.dynamodb import event_from_outbox_image
from amends.domain.lifecycle import Action
from amends.domain.model import Actor, Case, Role

from tests.unit.cases import take

pytestmark = pytest.mark.e2e
EVENTS = Path(__file__).resolve().parents[2] / "events"

HANDLER = Actor(kind="staff", id="handler-1", roles=(Role.HANDLER,))
COMPLAINT = {
    "complainant": {"name": "Grace Hopper", "email": "grace@example.com"},
    "product_or_service": "Credit card",
    "description": "My card was declined abroad although I had told the bank I was travelling.",
    "remedy_sought": "An apology and a refund of the call charges",
}


@pytest.fixture(scope="module")
def sfn(stack) -> Any:
    return boto3.client("stepfunctions", endpoint_url=stack.moto_endpoint, region_name="eu-west-2")


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def file(stack) -> str:
    filed = requests.post(f"{stack.api_url}/complaints", json=COMPLAINT, timeout=10,
                          headers={"Idempotency-Key": str(uuid.uuid4())})
    assert filed.status_code == 201, filed.text
    stack.wait_until_idle(timeout=60)
    return filed.json()["reference"]


def change(stack, reference: str, action: Action, reason: str | None = None, *, silently: bool = False) -> Case:
    """Apply ``action`` as a handler would. ``silently``: without its outbox event, as if it had not been published
    yet when the execution next looked."""
    repo = wiring.case_repository()
    made = take(repo.get(reference), action, stack.clock.now(), reason, actor=HANDLER)
    if silently:
        made = made.model_copy(update={"events": ()})
    repo.record(made)
    return made.case


def executions(stack, sfn, reference: str) -> dict[str, dict[str, Any]]:
    machine = stack.template.state_machines()["CaseLifecycleStateMachine"]
    found = sfn.list_executions(stateMachineArn=machine.arn)["executions"]
    return {e["name"]: e for e in found if e["name"].startswith(f"{reference}-v")}


def history(sfn, execution: dict[str, Any]) -> list[dict[str, Any]]:
    return sfn.get_execution_history(executionArn=execution["executionArn"])["events"]


def states(events: list[dict[str, Any]]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]


def woken_by(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """The status changes AwaitChange was sent, in order."""
    outputs = [json.loads(e["taskSucceededEventDetails"]["output"]) for e in events if e["type"] == "TaskSucceeded"
               and e["taskSucceededEventDetails"]["resource"] == "invoke.waitForTaskToken"]
    return [(o["status"], o["version"]) for o in outputs]


def parked(events: list[dict[str, Any]]) -> bool:
    return events[-1]["type"] == "TaskSubmitted" and states(events)[-1] == "AwaitChange"


def test_a_case_is_orchestrated_from_filing_to_closure_though_its_changes_come_faster_than_it_takes_them(
        stack, sfn) -> None:
    reference = file(stack)
    [execution] = executions(stack, sfn, reference).values()
    assert execution["name"] == f"{reference}-v1" and execution["status"] == "RUNNING"
    assert states(history(sfn, execution)) == ["Begin", "RouteOnStatus", "Acknowledge", "AwaitChange"]

    # Every change at once: most events arrive while the execution is busy with an earlier change (no token kept,
    # or an older one); it still takes each change once, in order.
    for action, reason in [(Action.ASSESS, None), (Action.START_INVESTIGATION, None),
                           (Action.PROPOSE_RESPONSE, "Refund the call charges"), (Action.COMMUNICATE_DECISION, None),
                           (Action.REQUEST_REVIEW, "The refund is too small"), (Action.CONCLUDE_REVIEW, None),
                           (Action.CLOSE, "resolved")]:
        change(stack, reference, action, reason)
    stack.wait_until_idle(timeout=90)

    events = history(sfn, executions(stack, sfn, reference)[f"{reference}-v1"])
    assert woken_by(events) == [("assessed", 3), ("investigating", 4), ("response_proposed", 5),
                                ("decision_communicated", 6), ("internal_review", 7), ("decision_communicated", 8),
                                ("closed", 9)]
    visited = states(events)
    assert [s for s in visited if s not in ("RouteOnStatus", "AwaitChange")] == [
        "Begin", "Acknowledge", "RouteApproval", "TellComplainant", "ChooseReviewers", "TellComplainant", "Closed"]
    assert events[-1]["type"] == "ExecutionSucceeded"
    approval = next(e for e in events if e["type"] == "TaskStateExited"
                    and e["stateExitedEventDetails"]["name"] == "RouteApproval")
    assert json.loads(approval["stateExitedEventDetails"]["output"])["approval"] == {"needs_approval": False}


def test_a_change_made_before_the_token_was_kept_is_not_lost(stack, sfn) -> None:
    reference = file(stack)
    # Assessed while nothing can tell the execution (its event is not published yet), then investigated: that
    # event wakes the execution with the assessment, and when it waits again it finds the investigation itself.
    change(stack, reference, Action.ASSESS, silently=True)
    change(stack, reference, Action.START_INVESTIGATION)
    stack.wait_until_idle(timeout=60)
    events = history(sfn, executions(stack, sfn, reference)[f"{reference}-v1"])
    assert woken_by(events) == [("assessed", 3), ("investigating", 4)]
    assert parked(events)


def lifecycle_message(stack, reference: str, version: int) -> dict[str, Any]:
    """The SQS message the lifecycle callback function got for the case's event of ``version``."""
    repo = wiring.case_repository()
    items = repo.client.query(TableName=repo.table, KeyConditionExpression="pk = :pk AND begins_with(sk, :o)",
                              ExpressionAttributeValues={":pk": {"S": f"CASE#{reference}"},
                                                         ":o": {"S": f"OUTBOX#{version:08d}#"}})["Items"]
    [event] = [event_from_outbox_image(item) for item in items]
    body = {"version": "0", "id": str(uuid.uuid4()), "detail-type": event.type, "source": "amends.cases",
            "account": "123456789012", "time": "2026-11-24T10:00:01Z", "region": "eu-west-2", "resources": [],
            "detail": event.model_dump(mode="json")}
    return {"Records": [{"messageId": str(uuid.uuid4()), "receiptHandle": "x", "body": json.dumps(body),
                         "attributes": {"ApproximateReceiveCount": "2"}, "messageAttributes": {}, "md5OfBody": "x",
                         "eventSource": "aws:sqs", "awsRegion": "eu-west-2",
                         "eventSourceARN": "arn:aws:sqs:eu-west-2:123456789012:amends-LifecycleEventsQueue"}]}


def test_a_duplicate_callback_changes_nothing(stack, sfn) -> None:
    reference = file(stack)
    change(stack, reference, Action.ASSESS)
    stack.wait_until_idle(timeout=60)
    execution = executions(stack, sfn, reference)[f"{reference}-v1"]
    before = history(sfn, execution)
    token = wiring.execution_tokens().get(reference)
    assert parked(before) and token is not None and token.version == 3

    for version in (3, 2, 1):  # the assessment, the acknowledgement and the opening, delivered again
        result = stack.functions.invoke("LifecycleCallbackFunction", lifecycle_message(stack, reference, version))
        assert result == {"batchItemFailures": []}
    stack.wait_until_idle(timeout=60)
    assert history(sfn, execution) == before
    assert wiring.execution_tokens().get(reference) == token
    assert list(executions(stack, sfn, reference)) == [f"{reference}-v1"]  # the opening started nothing new


def test_reopening_starts_a_new_execution_and_closing_again_ends_it(stack, sfn) -> None:
    reference = file(stack)
    change(stack, reference, Action.CLOSE, "withdrawn")
    stack.wait_until_idle(timeout=60)
    assert executions(stack, sfn, reference)[f"{reference}-v1"]["status"] == "SUCCEEDED"

    reopened = change(stack, reference, Action.REOPEN, "The complainant found the receipt")
    stack.wait_until_idle(timeout=60)
    runs = executions(stack, sfn, reference)
    assert set(runs) == {f"{reference}-v1", f"{reference}-v{reopened.version}"}
    second = runs[f"{reference}-v{reopened.version}"]
    events = history(sfn, second)
    assert json.loads(events[0]["executionStartedEventDetails"]["input"]) == {
        "case_reference": reference, "status": "investigating", "version": reopened.version}
    assert states(events) == ["Begin", "RouteOnStatus", "AwaitChange"] and parked(events)

    change(stack, reference, Action.CLOSE, "resolved")
    stack.wait_until_idle(timeout=60)
    runs = executions(stack, sfn, reference)
    assert {name: r["status"] for name, r in runs.items()} == {
        f"{reference}-v1": "SUCCEEDED", f"{reference}-v{reopened.version}": "SUCCEEDED"}
    assert woken_by(history(sfn, runs[f"{reference}-v{reopened.version}"])) == [("closed", reopened.version + 1)]


def test_a_reply_window_fires_once_when_the_local_clock_passes_it(stack, sfn) -> None:
    """Runs last in this module: it moves the stack's clock four weeks on."""
    reference = file(stack)
    for action, reason in [(Action.ASSESS, None), (Action.START_INVESTIGATION, None),
                           (Action.PROPOSE_RESPONSE, "Refund the call charges")]:
        change(stack, reference, action, reason)
    decided = change(stack, reference, Action.COMMUNICATE_DECISION)  # the decision sets the reply window with it
    stack.wait_until_idle(timeout=60)
    assert wiring.case_repository().get(reference).status.value == "decision_communicated"

    stack.clock.advance(timedelta(days=29))  # the scheduler fires the sweep by the runtime clock
    stack.wait_until_idle(timeout=60)
    record = wiring.case_repository().get_with_timeline(reference)
    assert record.case.status.value == "closed" and record.case.closure_reason == "no_reply"

    again = stack.functions.invoke("TimerSweepFunction", load_event("schedule_timer_sweep.json"))
    assert again["fired"] == 0  # a second sweep finds nothing left to do
    stack.wait_until_idle(timeout=60)
    record = wiring.case_repository().get_with_timeline(reference)
    closes = [e for e in record.timeline if e.action == "close"]
    assert len(closes) == 1 and closes[0].actor.id == "reply-window" and closes[0].seq == decided.version + 1
    events = history(sfn, executions(stack, sfn, reference)[f"{reference}-v1"])
    assert woken_by(events)[-1] == ("closed", decided.version + 1)
    assert events[-1]["type"] == "ExecutionSucceeded"
