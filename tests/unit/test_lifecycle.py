"""The transition table and the case's behaviour under any sequence of commands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from amends.domain import steps
from amends.domain.errors import ActionNotAllowed, DetailsRequired, DomainError, ReasonRequired
from amends.domain.handling import ClosureReason
from amends.domain.lifecycle import OPEN_STATUSES, TRANSITIONS, Action, Status, allowed_actions, target_of
from amends.domain.model import Actor, Case, EntryKind, Priority, open_case
from hypothesis import given, settings
from hypothesis import strategies as st

from .cases import POLICY, SUPERVISOR, walk
from .conftest import T0, make_submission

STAFF = Actor(kind="staff", id="u-1", roles=("handler",))


def test_every_state_is_reachable_from_receipt_and_has_a_way_forward() -> None:
    reachable, frontier = {Status.RECEIVED}, [Status.RECEIVED]
    while frontier:
        state = frontier.pop()
        for action in allowed_actions(state):
            target = TRANSITIONS[action].target
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(Status)
    # Nothing is orphaned: every state, closed included (reopen), has at least one way out.
    for state in Status:
        assert allowed_actions(state), f"{state} has no way forward"


def test_only_open_creates_a_case_and_every_open_state_can_be_closed() -> None:
    assert allowed_actions(None) == [Action.OPEN]
    for state in OPEN_STATUSES:
        assert target_of(Action.CLOSE, state) is Status.CLOSED
    assert target_of(Action.CLOSE, Status.CLOSED) is None


def test_receipt_records_who_what_when(opened) -> None:
    assert opened.case.status is Status.RECEIVED
    assert opened.case.version == 1 and opened.entry.seq == 1
    assert opened.entry.before == {"status": None}
    assert opened.entry.after["status"] == "received"
    assert [e.type for e in opened.events] == ["CaseOpened"]
    assert opened.expected_version is None


def test_safety_concern_makes_the_case_urgent_at_once() -> None:
    change = open_case(reference="CMP-2026-AAAAAA", access_token_hash="h", channel="web",  # type: ignore[arg-type]
                       submission=make_submission(safety_concern=True), actor=STAFF, received_at=T0,
                       received_at_local=T0)
    assert change.case.priority is Priority.URGENT
    assert change.events[0].data["safety_concern"] is True


def test_a_forbidden_transition_changes_nothing(opened) -> None:
    with pytest.raises(ActionNotAllowed, match="Cannot approve response on complaint CMP-2026-7K3F9Q: it is received"):
        opened.case.apply(Action.APPROVE_RESPONSE, STAFF, T0)


def test_closing_needs_a_reason_and_records_it(opened) -> None:
    with pytest.raises(DetailsRequired):  # a closure records more than a reason: steps.close
        opened.case.apply(Action.CLOSE, STAFF, T0, reason="withdrawn")
    closed = steps.close(opened.case, ClosureReason.WITHDRAWN, STAFF, T0, POLICY).case
    with pytest.raises(ReasonRequired):
        steps.reopen(closed, "  ", SUPERVISOR, T0, owner=STAFF.id)
    assert closed.closure_reason is ClosureReason.WITHDRAWN
    reopened = steps.reopen(closed, "new evidence", SUPERVISOR, T0, owner=STAFF.id)
    assert reopened.case.status is Status.INVESTIGATING and reopened.case.closure_reason is None
    assert reopened.entry.before["status"] == "closed" and reopened.entry.before["closure_reason"] == "withdrawn"


def test_a_message_from_the_complainant_resumes_work_waiting_for_them() -> None:
    case, _ = walk(Status.AWAITING_COMPLAINANT)
    change = case.add_message("Statement attached", Actor(kind="complainant", id="c"), T0)
    assert change.case.status is Status.INVESTIGATING
    assert change.entry.kind is EntryKind.MESSAGE and change.entry.complainant_visible


def test_notes_are_internal_and_closed_cases_take_no_messages(opened) -> None:
    note = opened.case.add_note("called the branch", STAFF, T0)
    assert not note.entry.complainant_visible and note.events[0].type == "InternalNoteAdded"
    closed = steps.close(opened.case, ClosureReason.REFERRED_ELSEWHERE, STAFF, T0, POLICY).case
    with pytest.raises(ActionNotAllowed):
        closed.add_message("hello?", Actor(kind="complainant", id="c"), T0)
    with pytest.raises(ActionNotAllowed):
        closed.assign("u-2", STAFF, T0)


# -- property: no sequence of commands skips the timeline or reaches a forbidden state --------------------------

commands = st.one_of(
    st.tuples(st.just("apply"), st.sampled_from(list(Action)), st.sampled_from([None, "", "because"])),
    st.tuples(st.just("assign"), st.sampled_from(["u-1", "u-2"]), st.none()),
    st.tuples(st.just("note"), st.just("n"), st.none()),
    st.tuples(st.just("message"), st.just("m"), st.none()),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(commands, max_size=40))
def test_any_sequence_keeps_a_complete_timeline_within_the_table(opened_seq: list) -> None:
    change = open_case(reference="CMP-2026-7K3F9Q", access_token_hash="h", submission=make_submission(),
                       channel="web", actor=STAFF, received_at=T0, received_at_local=T0)  # type: ignore[arg-type]
    case: Case = change.case
    timeline = [change.entry]
    at = T0
    for kind, arg, reason in opened_seq:
        at += timedelta(minutes=1)
        before, as_it_was = case, case.model_dump()  # a copy of its content: `before` itself is the same object
        try:
            if kind == "apply":
                result = case.apply(arg, STAFF, at, reason)
            elif kind == "assign":
                result = case.assign(arg, STAFF, at)
            elif kind == "note":
                result = case.add_note(arg, STAFF, at)
            else:
                result = case.add_message(arg, Actor(kind="complainant", id="c"), at)
        except DomainError:  # the table, a missing reason, or what a step must record (tests/unit/test_steps.py)
            assert case.model_dump() == as_it_was  # a refused command changes nothing, in place included
            continue
        # Accepted: exactly one new entry, numbered by the new version, with before/after and actor.
        assert result.expected_version == before.version
        assert result.case.version == before.version + 1 == result.entry.seq
        assert result.entry.actor is not None and result.entry.at == at
        if result.case.status is not before.status:
            assert result.entry.before["status"] == before.status.value
            assert result.entry.after["status"] == result.case.status.value
            legal = {TRANSITIONS[a].target for a in allowed_actions(before.status)}
            if kind == "apply":
                assert result.case.status is target_of(arg, before.status)
            else:  # only a complainant message may move state, and only out of waiting
                assert (before.status, result.case.status) == (Status.AWAITING_COMPLAINANT, Status.INVESTIGATING)
            assert result.case.status in legal
        assert len(result.events) == 1 and result.events[0].case_version == result.case.version
        case = result.case
        timeline.append(result.entry)
    assert [e.seq for e in timeline] == list(range(1, case.version + 1))
