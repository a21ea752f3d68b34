"""The lifecycle's handlers fed the sample events: the state machine's steps (AwaitChange included), the lifecycle
callback function's SQS batches and the timer sweep's schedule. Cases here are written without their outbox events,
so no execution of the stack's own lifecycle works on them meanwhile."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

from amends import wiring
from amends.domain.lifecycle import Action
from amends.domain.model import Actor, Channel, Person, Submission, open_case
from amends.domain.reference import new_reference

from .events import load

STAFF = Actor(kind="staff", id="handler-1")


def quiet_case(**kw):
    """A case nobody orchestrates: recorded without its CaseOpened event."""
    now = datetime.now(UTC)
    data = {"complainant": Person(name="Ada", email="ada@example.com"), "product_or_service": "Loan",
            "description": "d", "remedy_sought": "unknown", **kw}
    sub = Submission(**data)
    change = open_case(reference=new_reference(now), access_token_hash="h" * 64, submission=sub,
                       channel=Channel.WEB, actor=Actor(kind="complainant", id="c"), received_at=now,
                       received_at_local=now)
    wiring.case_repository().record(change.model_copy(update={"events": ()}))
    return change.case


def apply_quietly(case, action: Action, reason: str | None = None):
    change = case.apply(action, STAFF, datetime.now(UTC), reason)
    wiring.case_repository().record(change.model_copy(update={"events": ()}))
    return change.case


def test_await_keeps_the_token_then_sends_it_once_the_case_has_moved_on(stack) -> None:
    case = quiet_case()
    event = {**load("stepfunctions_await.json"), "case_reference": case.reference, "version": 1}
    assert stack.functions.invoke("LifecycleFunction", event) == {"waiting": True}
    assert wiring.execution_tokens().get(case.reference).token == event["task_token"]

    apply_quietly(case, Action.ACKNOWLEDGE)
    # Step Functions does not know this sample token: the callback is refused as InvalidToken, which means nothing
    # waits on it any more, so the token is forgotten and the step succeeds.
    assert stack.functions.invoke("LifecycleFunction", event) == {"waiting": False}
    assert wiring.execution_tokens().get(case.reference) is None


def test_the_working_steps_answer_from_the_case(stack) -> None:
    case = quiet_case(safety_concern=True, preferred_contact_channel="post",
                      complainant=Person(name="Ada", postal_address="1 Analytical Row, London"))
    ask = {**load("stepfunctions_acknowledge.json"), "case_reference": case.reference}
    assert stack.functions.invoke("LifecycleFunction", {**ask, "step": "route_approval"}) == {
        "needs_approval": False, "reasons": []}  # no proposal yet
    assert stack.functions.invoke("LifecycleFunction", {**ask, "step": "choose_reviewers"}) == {
        "roles": ["supervisor", "manager"], "not": []}
    assert stack.functions.invoke("LifecycleFunction", {**ask, "step": "tell_complainant"}) == {
        "channel": "post", "by": "staff"}


def test_the_callback_function_reports_a_bad_record_alone(stack) -> None:
    case = quiet_case()
    event = load("sqs_lifecycle_event.json")
    good = event["Records"][0]
    body = json.loads(good["body"])
    body["detail"]["case_reference"] = case.reference
    good["body"] = json.dumps(body)
    bad = copy.deepcopy(good)
    bad["messageId"] = "not-a-case-event"
    bad["body"] = json.dumps({"detail": {"nonsense": True}})
    event["Records"].append(bad)
    result = stack.functions.invoke("LifecycleCallbackFunction", event)
    assert result == {"batchItemFailures": [{"itemIdentifier": "not-a-case-event"}]}


def test_the_timer_sweep_runs_on_its_schedule_event(stack) -> None:
    result = stack.functions.invoke("TimerSweepFunction", load("schedule_timer_sweep.json"))
    assert set(result) == {"fired", "stale", "failed", "taken"} and result["failed"] == 0
