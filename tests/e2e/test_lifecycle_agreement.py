"""A property over the whole stack: whatever sequence of API calls staff and the complainant make (most of them
refused), the case and its CaseLifecycle execution agree afterwards. Slow (each call waits for the lifecycle to
take it), so few examples; each follows its own complaint."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .lifecycle_http import LARGE, LOW, REVIEWED, SMALL, Complaint, Stack, parked

pytestmark = pytest.mark.e2e

PEOPLE = [("handler", "handler-1"), ("handler", "handler-2"), ("supervisor", "sup-a"), ("supervisor", "sup-b"),
          ("manager", "man-b")]
STAFF_CALLS: list[tuple[str, Any]] = [
    ("assessment", LOW), ("investigation", {"owner": "handler-1"}), ("information-requests", {"question": "Which?"}),
    ("proposal", SMALL), ("proposal", LARGE), ("proposal/approval", {"approve": True}),
    ("proposal/approval", {"approve": False, "reason": "Check the amount"}), ("decision", None),
    ("review", REVIEWED), ("closure", {"reason": "resolved"}), ("reopening", {"reason": "New evidence"}),
]
# What each allowed action is as a call (links, assignments and notes change no status: left out).
CALL_OF = {"assess": [0], "start_investigation": [1], "request_information": [2], "propose_response": [3, 4],
           "approve_response": [5], "return_proposal": [6], "communicate_decision": [7], "conclude_review": [8],
           "close": [9], "reopen": [10]}
any_call = st.one_of(
    st.tuples(st.just("staff"), st.sampled_from(STAFF_CALLS), st.sampled_from(PEOPLE)),
    st.tuples(st.just("complainant"), st.sampled_from(["accept", "reject", "message"]), st.none()),
)


def next_call(data: st.DataObject, c: Complaint) -> tuple[str, Any, Any]:
    """Mostly a call someone may make now (from their allowed_actions, so cases get deep into the lifecycle); one in
    four any call at all, by anyone (most of those are refused)."""
    if data.draw(st.integers(0, 3)) == 0:
        return data.draw(any_call)
    role, sub = data.draw(st.sampled_from(PEOPLE))
    case = c.case(role, sub)
    options = [("staff", STAFF_CALLS[i], (role, sub)) for a in case["allowed_actions"] for i in CALL_OF.get(a, [])]
    if case["status"] == "decision_communicated":
        options += [("complainant", "accept", None), ("complainant", "reject", None)]
    if case["status"] == "awaiting_complainant":
        options.append(("complainant", "message", None))
    return data.draw(st.sampled_from(options)) if options else data.draw(any_call)


@pytest.fixture(scope="module")
def on(stack) -> Stack:
    return Stack(stack)


def make(c: Complaint, call: tuple[str, Any, Any]) -> int:
    kind, what, who = call
    if kind == "staff":
        (route, body), (role, sub) = what, who
        return c.staff(route, role, sub, body).status_code
    if what == "message":
        sent = requests.post(f"{c.on.url}/complaints/{c.reference}/messages", json={"message": "The card ends 4411."},
                             headers={"X-Access-Token": c.access_token}, timeout=15)
        c.on.idle()
        return sent.status_code
    return c.answer(what == "accept", None if what == "accept" else "Not enough").status_code


def execution_view(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The case as the execution last took it (its $.case after the last step that sets it)."""
    exits = [e for e in events if e["type"].endswith("StateExited")
             and e["stateExitedEventDetails"]["name"] in ("Begin", "Acknowledge", "AwaitChange")]
    return json.loads(exits[-1]["stateExitedEventDetails"]["output"])["case"]


@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.integers(6, 14), st.data())
def test_any_sequence_of_calls_leaves_the_case_and_its_execution_agreeing(on, length, data) -> None:
    c = on.file()
    moves, outcomes = [], []
    for _ in range(length):
        moves.append(call := next_call(data, c))
        outcomes.append(make(c, call))
    assert all(code < 500 for code in outcomes), list(zip(moves, outcomes, strict=True))

    case = c.case()
    changes = [e for e in case["timeline"] if "status" in e["after"]]
    starts = [e["seq"] for e in changes if e["action"] in ("open", "reopen")]
    runs = c.executions()
    assert list(runs) == [f"{c.reference}-v{v}" for v in starts]  # one execution per opening and reopening
    *earlier, latest = runs.values()
    assert all(r["status"] == "SUCCEEDED" for r in earlier)
    events = c.on.history(latest)
    took = execution_view(events)
    assert took == {"status": case["status"], "version": changes[-1]["seq"]}, (moves, took, case["status"])
    if case["status"] == "closed":
        assert latest["status"] == "SUCCEEDED" and events[-1]["type"] == "ExecutionSucceeded"
    else:
        assert latest["status"] == "RUNNING" and parked(events)
