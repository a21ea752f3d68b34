"""The transition table and the case's behaviour under any sequence of commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from amends.domain import steps
from amends.domain.errors import ActionNotAllowed, DetailsRequired, DomainError, ReasonRequired
from amends.domain.handling import ClosureReason
from amends.domain.lifecycle import OPEN_STATUSES, TRANSITIONS, Action, Status, allowed_actions, target_of
from amends.domain.model import Actor, Case, Change, EntryKind, Priority, open_case
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from .cases import COMPLAINANT, HANDLER, HANDLER_2, POLICY, RULES, SUPERVISOR, SYSTEM, content, findings, opening, walk
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


# -- the model against the process as ISO 10002 describes it ----------------------------------------------------
# Written out here, in the standard's words, and not read from the model: (state, action) -> the state it leads to.
# A path the model adds or loses shows up as a difference from this statement.
ISO_10002_OPEN_STATES = ("received", "acknowledged", "assessed", "investigating", "awaiting_complainant",
                         "response_proposed", "response_approved", "decision_communicated", "internal_review")
ISO_10002_PATHS: dict[tuple[str | None, str], str] = {
    (None, "open"): "received",  # 7.2 receipt: a reference, nothing else yet
    ("received", "acknowledge"): "acknowledged",  # 7.4 acknowledged with the expected time frame
    ("received", "assess"): "assessed",  # 7.5: a safety issue is assessed before the acknowledgement goes out
    ("acknowledged", "assess"): "assessed",
    ("assessed", "start_investigation"): "investigating",  # 7.6 an accountable owner works on it
    ("investigating", "request_information"): "awaiting_complainant",
    ("awaiting_complainant", "receive_information"): "investigating",
    ("investigating", "propose_response"): "response_proposed",  # 7.7 a remedy proposed...
    ("response_proposed", "approve_response"): "response_approved",  # ...approved by a second pair of eyes...
    ("response_proposed", "return_proposal"): "investigating",  # ...or sent back, before or after approval
    ("response_approved", "return_proposal"): "investigating",
    ("response_proposed", "communicate_decision"): "decision_communicated",  # 7.8 (no approval needed)
    ("response_approved", "communicate_decision"): "decision_communicated",
    ("decision_communicated", "request_review"): "internal_review",  # 7.9 not accepted: a second tier
    ("internal_review", "conclude_review"): "decision_communicated",  # the final decision
    **{(state, "close"): "closed" for state in ISO_10002_OPEN_STATES},  # any open case closes, with a reason
    ("closed", "reopen"): "investigating",  # within the reopen window
}
ISO_10002_STATES = (*ISO_10002_OPEN_STATES, "closed")


def test_the_transition_table_is_the_process_iso_10002_describes() -> None:
    assert {s.value for s in Status} == set(ISO_10002_STATES)
    model = {(source.value if source else None, action.value): t.target.value
             for action, t in TRANSITIONS.items() for source in t.sources}
    assert sorted(model.items(), key=str) == sorted(ISO_10002_PATHS.items(), key=str)


def iso_actions(state: str) -> list[Action]:
    return sorted((Action(a) for (s, a) in ISO_10002_PATHS if s == state), key=str)


ALL_PAIRS = {(state, action.value) for state in ISO_10002_STATES for action in Action}
TRIED: set[tuple[str, str]] = set()  # every (state, action) the machine below asked the model for
TAKEN: set[tuple[str | None, str]] = set()  # every ISO path it saw the model take


class CaseLifecycle(RuleBasedStateMachine):
    """Any walk through the process, each command with what its step records and someone allowed to take it. In each
    state the walk reaches, every action is asked for (a case is immutable: asking changes nothing), and the model must
    take exactly those along a path of ISO_10002_PATHS, to the state the path leads to, and refuse the rest, leaving
    the case as it was; one of the changes it took is then kept and the walk goes on from there. Every change is one
    timeline entry numbered by the version it made."""

    def __init__(self) -> None:
        super().__init__()
        change = opening()
        self.case, self.timeline, self.at, self.reviewers = change.case, [change.entry], T0, 0
        TAKEN.add((None, change.entry.action))

    def command(self, action: Action, money: str | None) -> Callable[[Case, datetime], Change]:
        if action is Action.CONCLUDE_REVIEW:  # someone who took no part in the case, each time
            self.reviewers += 1
            reviewer = Actor(kind="staff", id=f"reviewer-{self.reviewers}", roles=("manager",))
            return lambda c, at: steps.conclude_review(c, content(), reviewer, at, POLICY)
        return {
            Action.OPEN: lambda c, at: c.apply(Action.OPEN, SYSTEM, at),
            Action.ACKNOWLEDGE: lambda c, at: c.apply(Action.ACKNOWLEDGE, SYSTEM, at),
            Action.ASSESS: lambda c, at: steps.assess(c, findings(), HANDLER, at, RULES),
            Action.START_INVESTIGATION: lambda c, at: steps.start_investigation(c, HANDLER, at,
                                                                                owner=c.owner or HANDLER.id),
            Action.REQUEST_INFORMATION: lambda c, at: steps.request_information(c, "Which account?", HANDLER, at),
            Action.RECEIVE_INFORMATION: lambda c, at: c.apply(Action.RECEIVE_INFORMATION, HANDLER, at),
            # Money above the threshold needs approval: communicated straight from response_proposed, it is refused;
            # without it, there is nothing to approve.
            Action.PROPOSE_RESPONSE: lambda c, at: steps.propose_response(c, content(money=money), HANDLER, at,
                                                                          POLICY),
            Action.APPROVE_RESPONSE: lambda c, at: steps.approve_response(c, SUPERVISOR, at),
            Action.RETURN_PROPOSAL: lambda c, at: steps.return_proposal(c, "Not enough", SUPERVISOR, at),
            Action.COMMUNICATE_DECISION: lambda c, at: steps.communicate_decision(c, HANDLER, at, POLICY),
            Action.REQUEST_REVIEW: lambda c, at: steps.reject_decision(c, "I disagree", COMPLAINANT, at, POLICY),
            Action.CLOSE: lambda c, at: steps.close(c, ClosureReason.WITHDRAWN, HANDLER, at, POLICY),
            Action.REOPEN: lambda c, at: steps.reopen(c, "New evidence", SUPERVISOR, at, owner=c.owner or HANDLER.id),
        }[action]

    def run(self, command: Callable[[Case, datetime], Change]) -> Change | None:
        """The command on the current case: the change it makes, checked, or None when it is refused."""
        self.at += timedelta(minutes=1)
        case, as_it_was = self.case, self.case.model_dump()
        try:
            change = command(case, self.at)
        except DomainError:
            assert case.model_dump() == as_it_was  # refused: the case is as it was
            return None
        assert case.model_dump() == as_it_was  # taken: a new case, the old one untouched
        assert change.entry.at == self.at
        assert change.expected_version == case.version
        assert change.case.version == case.version + 1 == change.entry.seq
        assert change.entry.actor is not None
        assert len(change.events) >= 1 and all(e.case_version == change.case.version for e in change.events)
        if change.entry.kind is EntryKind.TRANSITION or change.case.status is not case.status:
            # A complainant's message answering the open question is how information is received.
            action = "receive_information" if change.entry.action == "add_message" else change.entry.action
            path = (case.status.value, action)
            assert ISO_10002_PATHS.get(path) == change.case.status.value, \
                f"{path} -> {change.case.status.value}: ISO 10002 has no such path"
            assert change.entry.before["status"] == case.status.value
            assert change.entry.after["status"] == change.case.status.value
            TAKEN.add(path)
            event(f"took {path[0]} --{path[1]}--> {change.case.status.value}")
        return change

    def keep(self, change: Change) -> None:
        self.case = change.case
        self.timeline.append(change.entry)

    @initialize(start=st.sampled_from(list(Status)))
    def start_anywhere(self, start: Status) -> None:
        """Any state to start from, reached along the main path (tests/unit/cases.py), every action asked for in each
        state on the way: so every walk asks in the first states, and begins as often in the last states as in the
        first (received is reached only here: nothing leads back to it)."""
        for step in walk(start, self.case, self.at)[1]:
            self.ask_for_every_action(money=None)
            self.keep(step)
        event(f"started at {start.value}")

    def ask_for_every_action(self, money: str | None) -> dict[Action, Change]:
        """Every action asked for in the current state: the changes the model made, by action (none is kept)."""
        state = self.case.status.value
        taken: dict[Action, Change] = {}
        for action in Action:
            TRIED.add((state, action.value))
            change = self.run(self.command(action, money))
            if (state, action.value) not in ISO_10002_PATHS:
                assert change is None, f"{action.value} taken from {state}: ISO 10002 has no such path"
            elif change is None:  # a path that exists, refused by a rule (an approval needed, or nothing to approve)
                event(f"refused {state} --{action.value}--> by a rule")
            else:
                taken[action] = change
        assert taken, f"nothing can be done in {state}: the case is orphaned"
        event(f"asked for every action in {state}")
        return taken

    @rule(data=st.data(), money=st.sampled_from([None, "900"]))
    def ask_for_every_action_then_keep_one(self, data: st.DataObject, money: str | None) -> None:
        taken = self.ask_for_every_action(money)
        # Closing is kept less often than the rest (every open state may close), or most walks would be short.
        onwards = sorted((a for a in taken if a is not Action.CLOSE), key=str)
        choices = [*onwards, *onwards, Action.CLOSE] if Action.CLOSE in taken else onwards
        self.keep(taken[data.draw(st.sampled_from(choices), label="kept")])

    @rule(entry=st.sampled_from(["assign", "note", "message"]), owner=st.sampled_from([HANDLER.id, HANDLER_2.id]))
    def add_an_entry(self, entry: str, owner: str) -> None:
        change = self.run({"assign": lambda c, at: c.assign(owner, SUPERVISOR, at, "cover"),
                           "note": lambda c, at: c.add_note("called the branch", HANDLER, at),
                           "message": lambda c, at: c.add_message("more detail", COMPLAINANT, at)}[entry])
        if change is not None:
            self.keep(change)

    @invariant()
    def the_timeline_has_every_version_once(self) -> None:
        assert [e.seq for e in self.timeline] == list(range(1, self.case.version + 1))


def test_every_sequence_of_commands_follows_iso_10002_and_reaches_every_state_and_action() -> None:
    TRIED.clear()
    TAKEN.clear()
    run_state_machine_as_test(CaseLifecycle, settings=settings(max_examples=100, stateful_step_count=30,
                                                               deadline=None))
    # Coverage, measured over the whole run: every state was reached and asked for every action, and every path of
    # the process was taken at least once. (TestCaseLifecycle below is the same machine, for
    # `pytest --hypothesis-show-statistics` to show how often each path was taken.)
    assert ALL_PAIRS - TRIED == set(), "never asked"
    assert set(ISO_10002_PATHS) - TAKEN == set(), "never taken"


# Marked as hypothesis marks a state machine's own TestCase.runTest, so that `--hypothesis-show-statistics` reports the
# events above (how often each state was started from, each path taken, each path refused by a rule).
test_every_sequence_of_commands_follows_iso_10002_and_reaches_every_state_and_action.is_hypothesis_test = True  # type: ignore[attr-defined]
