"""Every path of issue 7 end to end: staff and complainants over HTTP through the real API handlers, the change's
outbox event waking the real CaseLifecycle ASL in moto's interpreter. Each test follows its own complaint (by
reference) and asserts its timeline and its execution's history.

The tests that move the local clock (silence, an expired reopen window) come last: the clock only moves forward,
for the whole session.
"""

from __future__ import annotations

import pytest

from .lifecycle_http import LARGE, LOW, REVIEWED, SMALL, Stack, output_of, parked, states, woken_by

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def on(stack) -> Stack:
    return Stack(stack)


def transitions(complaint) -> list[str]:
    """The staff timeline's status changes (assignments, notes, links and deadline entries left out)."""
    return [e["action"] for e in complaint.case()["timeline"] if e["kind"] == "transition"]


def test_accept_closes_the_case_and_ends_its_execution(on) -> None:
    c = on.file()
    c.to_investigation()
    proposed = c.ok("proposal", "handler", "handler-1", SMALL)
    assert "communicate_decision" in proposed["allowed_actions"]  # 42.50 GBP, low severity: no approval needed
    decided = c.ok("decision", "handler", "handler-1")
    assert decided["status"] == "decision_communicated" and decided["reply_due_at"]

    view = c.view()
    assert view["decision"]["outcome"] == "upheld" and view["decision"]["recourse"]["external"]["body"]
    assert view["decision"]["recourse"]["internal_review"]
    assert view["next_step"]["by"] == view["reply_due_at"] and "accept" in view["next_step"]["what"]

    answered = c.answer(True)
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "closed" and answered.json()["next_step"]["by"]  # the reopen window
    assert transitions(c) == ["open", "acknowledge", "assess", "start_investigation", "propose_response",
                              "communicate_decision", "close"]
    assert c.case()["closure_reason"] == "upheld_monetary_remedy"

    [name] = c.executions()
    assert name == f"{c.reference}-v1" and c.executions()[name]["status"] == "SUCCEEDED"
    events = c.history()
    assert states(events) == ["Begin", "Acknowledge", "RouteApproval", "TellComplainant", "Closed"]
    assert woken_by(events) == ["assessed", "investigating", "response_proposed", "decision_communicated", "closed"]
    assert output_of(events, "RouteApproval")[0]["approval"] == {"needs_approval": False}
    assert output_of(events, "TellComplainant")[0]["told"] == {"channel": "email", "by": "email"}


def test_reject_then_a_review_by_someone_who_took_no_part(on) -> None:
    c = on.file()
    c.to_investigation()
    c.ok("proposal", "handler", "handler-1", SMALL)
    c.ok("decision", "supervisor", "sup-a")  # sup-a now took part
    assert c.answer(False, "The refund does not cover my bank's charges").status_code == 200
    assert c.case()["status"] == "internal_review"
    assert "someone who took no part" in c.view()["next_step"]["what"].lower()

    involved = c.staff("review", "supervisor", "sup-a", REVIEWED)
    assert involved.status_code == 403 and involved.json()["type"].endswith("/not-uninvolved")
    handler = c.staff("review", "handler", "handler-2", REVIEWED)
    assert handler.status_code == 403 and handler.json()["type"].endswith("/forbidden")
    assert "conclude_review" not in c.case("supervisor", "sup-a")["allowed_actions"]
    assert "conclude_review" in c.case("supervisor", "sup-b")["allowed_actions"]
    final = c.ok("review", "supervisor", "sup-b", REVIEWED)
    assert final["status"] == "decision_communicated"

    view = c.view()
    assert view["decision"]["final"] is True and view["decision"]["recourse"]["internal_review"] is None
    assert "final decision" in view["next_step"]["what"] and view["decision"]["recourse"]["external"]["time_limit"] \
        in view["next_step"]["what"]
    assert c.answer(True).status_code == 200
    assert transitions(c) == ["open", "acknowledge", "assess", "start_investigation", "propose_response",
                              "communicate_decision", "request_review", "conclude_review", "close"]

    events = c.history()
    assert states(events) == ["Begin", "Acknowledge", "RouteApproval", "TellComplainant", "ChooseReviewers",
                              "TellComplainant", "Closed"]
    assert woken_by(events)[-4:] == ["decision_communicated", "internal_review", "decision_communicated", "closed"]
    reviewers = output_of(events, "ChooseReviewers")[0]["reviewers"]
    assert reviewers == {"roles": ["supervisor", "manager"], "not": ["handler-1", "sup-a"]}


def test_four_eyes_refuses_the_proposer_and_the_wrong_role(on) -> None:
    c = on.file()
    c.to_investigation()
    proposed = c.ok("proposal", "supervisor", "sup-a", LARGE)
    assert "communicate_decision" not in proposed["allowed_actions"]
    assert "approve_response" not in proposed["allowed_actions"]  # not to its own proposer

    too_soon = c.staff("decision", "supervisor", "sup-a")
    assert too_soon.status_code == 409 and too_soon.json()["type"].endswith("/approval-required")
    assert too_soon.json()["status_now"] == "response_proposed" and "750.00 GBP" in too_soon.json()["detail"]
    own = c.staff("proposal/approval", "supervisor", "sup-a", {"approve": True})
    assert own.status_code == 403 and own.json()["type"].endswith("/four-eyes-required")
    handler = c.staff("proposal/approval", "handler", "handler-1", {"approve": True})
    assert handler.status_code == 403 and handler.json()["type"].endswith("/forbidden")
    assert c.case()["status"] == "response_proposed"  # none of the refusals changed anything

    assert c.ok("proposal/approval", "manager", "man-b", {"approve": True})["status"] == "response_approved"
    assert c.ok("decision", "supervisor", "sup-a")["status"] == "decision_communicated"
    assert transitions(c)[-3:] == ["propose_response", "approve_response", "communicate_decision"]

    events = c.history()
    assert output_of(events, "RouteApproval")[0]["approval"] == {"needs_approval": True}
    assert woken_by(events)[-3:] == ["response_proposed", "response_approved", "decision_communicated"]
    assert parked(events)  # waiting for the complainant's answer


def test_a_returned_proposal_goes_back_to_the_investigation(on) -> None:
    c = on.file()
    c.to_investigation()
    c.ok("proposal", "handler", "handler-1", LARGE)
    no_reason = c.staff("proposal/approval", "manager", "man-b", {"approve": False})
    assert no_reason.status_code == 422
    returned = c.ok("proposal/approval", "manager", "man-b", {"approve": False, "reason": "Too generous: 500 max"})
    assert returned["status"] == "investigating" and "propose_response" in returned["allowed_actions"]
    staff_timeline = c.case()["timeline"]
    assert any(e["action"] == "return_proposal" and e["reason"] == "Too generous: 500 max" for e in staff_timeline)
    assert not any("500 max" in (item["message"] or "") for item in c.view()["timeline"])  # internal

    c.ok("proposal", "handler", "handler-1", SMALL)
    c.ok("decision", "handler", "handler-1")
    events = c.history()
    assert woken_by(events)[2:] == ["response_proposed", "investigating", "response_proposed",
                                    "decision_communicated"]
    assert [o["approval"] for o in output_of(events, "RouteApproval")] == [
        {"needs_approval": True}, {"needs_approval": False}]


def test_a_duplicate_is_merged_and_both_complainants_can_see_where_it_went(on) -> None:
    kept, duplicate = on.file(), on.file()
    merged = duplicate.ok("links", "handler", "handler-1", {"reference": kept.reference, "relation": "duplicate_of"})
    assert merged["status"] == "closed" and merged["closure_reason"] == "duplicate"

    view = duplicate.view()
    assert view["merged_into"] == kept.reference and kept.reference in view["next_step"]["what"]
    assert kept.reference in view["timeline"][-1]["message"]
    assert any(duplicate.reference in (item["message"] or "") for item in kept.view()["timeline"])
    links = [e for e in kept.case()["timeline"] if e["kind"] == "link"]
    assert len(links) == 1 and duplicate.reference in links[0]["body"]

    assert states(duplicate.history()) == ["Begin", "Acknowledge", "Closed"]
    assert duplicate.executions()[f"{duplicate.reference}-v1"]["status"] == "SUCCEEDED"
    events = kept.history()
    assert woken_by(events) == [] and parked(events)  # a link changes no status: the kept one still waits
    again = duplicate.staff("links", "handler", "handler-1", {"reference": kept.reference, "relation": "related"})
    assert again.status_code == 409 and again.json()["status_now"] == "closed"


def test_a_wrong_step_is_409_with_the_status_and_what_may_be_done_and_changes_nothing(on) -> None:
    c = on.file()
    before, history = c.case("handler", "handler-1"), c.history()
    for route, body in (("decision", None), ("proposal/approval", {"approve": True}), ("review", REVIEWED),
                        ("reopening", {"reason": "again"}), ("information-requests", {"question": "Which card?"})):
        role = "manager" if route in ("proposal/approval", "review", "reopening") else "handler"
        refused = c.staff(route, role, f"{role}-1", body)
        problem = refused.json()
        assert refused.status_code == 409, (route, problem)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert problem["type"].endswith("/wrong-state") and problem["status_now"] == "acknowledged"
        assert problem["allowed_actions"] == c.case(role, f"{role}-1")["allowed_actions"], route
    early = c.answer(True)
    assert early.status_code == 409 and early.json()["status_now"] == "acknowledged"
    assert early.json()["allowed_actions"] == ["add_message"]
    assert c.case("handler", "handler-1") == before and c.history() == history


def test_reopening_inside_the_window_starts_a_new_execution(on) -> None:
    c = on.file()
    c.ok("closure", "handler", "handler-1", {"reason": "withdrawn"})
    assert c.executions()[f"{c.reference}-v1"]["status"] == "SUCCEEDED"
    assert "reopen" in c.case("supervisor", "sup-r")["allowed_actions"]
    reopened = c.ok("reopening", "supervisor", "sup-r", {"reason": "The complainant found the receipt"})
    assert reopened["status"] == "investigating" and reopened["owner"] == "sup-r"  # it had none: the reopener
    runs = c.executions()
    second = f"{c.reference}-v{reopened['version']}"
    assert list(runs) == [f"{c.reference}-v1", second] and runs[second]["status"] == "RUNNING"
    assert parked(c.history(second)) and states(c.history(second)) == ["Begin"]

    c.ok("proposal", "supervisor", "sup-r", SMALL)
    c.ok("decision", "supervisor", "sup-r")
    assert c.answer(True).status_code == 200
    assert transitions(c) == ["open", "acknowledge", "close", "reopen", "propose_response", "communicate_decision",
                              "close"]
    assert {name: r["status"] for name, r in c.executions().items()} == {f"{c.reference}-v1": "SUCCEEDED",
                                                                        second: "SUCCEEDED"}
    assert woken_by(c.history(second)) == ["response_proposed", "decision_communicated", "closed"]
    assert reopened["reference"] in c.view()["reference"] and c.view()["timeline"][3]["what"] == "Complaint reopened"


# -- these move the clock: last ------------------------------------------------------------------------------------


def test_silence_after_the_decision_closes_with_no_reply(on) -> None:
    c = on.file()
    c.to_investigation()
    c.ok("proposal", "handler", "handler-1", SMALL)
    decided = c.ok("decision", "handler", "handler-1")
    on.advance("P27D")  # not yet
    assert c.case()["status"] == "decision_communicated"
    on.advance("P2D")  # past the 28 days to answer: the sweep closes it
    case = c.case()
    assert case["status"] == "closed" and case["closure_reason"] == "no_reply"
    closing = [e for e in case["timeline"] if e["action"] == "close"]
    assert len(closing) == 1 and closing[0]["actor"] == {"kind": "system", "id": "reply-window", "roles": []}
    assert closing[0]["seq"] == decided["version"] + 1
    view = c.view()
    assert view["timeline"][-1]["what"] == "Complaint closed" and view["next_step"]["by"]  # reopen by then
    events = c.history()
    assert woken_by(events)[-1] == "closed" and events[-1]["type"] == "ExecutionSucceeded"
    assert c.answer(True).status_code == 409  # too late to answer: the answer says so


def test_reopening_after_the_window_is_refused_with_why(on) -> None:
    c = on.file()
    c.ok("closure", "handler", "handler-1", {"reason": "resolved"})
    on.advance("P57D")  # past the 56 days in which it could be reopened
    case = c.case("supervisor", "sup-r")
    assert case["status"] == "closed" and "reopen" not in case["allowed_actions"]
    late = c.staff("reopening", "supervisor", "sup-r", {"reason": "New evidence"})
    problem = late.json()
    assert late.status_code == 409 and problem["type"].endswith("/reopen-window-closed")
    assert problem["status_now"] == "closed" and problem["allowed_actions"] == case["allowed_actions"]
    assert "new complaint" in problem["detail"] and c.reference in problem["detail"]
    assert list(c.executions()) == [f"{c.reference}-v1"]  # nothing started
    assert transitions(c) == ["open", "acknowledge", "close"]
