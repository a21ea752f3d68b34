"""What each change of a case records, exactly: the first version and its ``CaseOpened``, the timeline entry and
event of an assignment, a note, a message, a message after closure, a staff reply and a bounce (who, what, whether
the complainant sees it, the fields before and after), and the refusals of a transition's reason."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from amends.domain import steps
from amends.domain.case_sla import CaseSla
from amends.domain.errors import (
    ActionNotAllowed,
    DetailsRequired,
    InvalidReason,
    OwnerRequired,
    ReasonRequired,
    ReopenWindowClosed,
)
from amends.domain.escalation import Action as RuleAction
from amends.domain.escalation import Rule
from amends.domain.handling import ClosureReason, LinkRelation
from amends.domain.lifecycle import Action, Status
from amends.domain.model import REASON_MAX_CHARS, Actor, Case, Channel, EntryKind, Priority, open_case
from amends.domain.sla import Pinned
from amends.domain.sla_config import load_config
from amends.domain.timers import REPLY_WINDOW, Timer

from .cases import COMPLAINANT, HANDLER, POLICY, RULES, SUPERVISOR, T0, findings, new_case, opening, walk
from .conftest import make_submission


def test_receipt_is_the_first_version_with_its_entry_and_event() -> None:
    change = open_case(reference="CMP-2026-7K3F9Q", access_token_hash="h" * 64, submission=make_submission(),
                       channel=Channel.PHONE, actor=HANDLER, received_at=T0, received_at_local=T0 + timedelta(hours=1))
    case, entry, (event,) = change.case, change.entry, change.events
    assert (case.version, case.status, case.priority, case.updated_at, case.owner) == (
        1, Status.RECEIVED, Priority.NORMAL, T0, None)
    assert change.expected_version is None and change.timers == ()
    assert (entry.seq, entry.at, entry.actor, entry.kind, entry.action, entry.reason) == (
        1, T0, HANDLER, EntryKind.TRANSITION, "open", "Complaint received by phone")
    assert entry.complainant_visible is True
    assert (entry.before, entry.after) == ({"status": None}, {"status": "received", "priority": "normal"})
    assert (event.type, event.case_reference, event.case_version, event.occurred_at) == (
        "CaseOpened", "CMP-2026-7K3F9Q", 1, T0)
    assert event.data == {"channel": "phone", "priority": "normal", "safety_concern": False,
                          "product_or_service": "Current account", "preferred_contact_channel": "email",
                          "preferred_language": "en", "received_at_local": "2026-03-02T10:30:00+00:00"}


def test_a_safety_concern_opens_the_case_urgent() -> None:
    change = opening(safety_concern=True)
    assert change.case.priority is Priority.URGENT
    assert change.entry.after == {"status": "received", "priority": "urgent"}
    assert change.events[0].data["priority"] == "urgent" and change.events[0].data["safety_concern"] is True


def test_an_assignment_is_staff_only_and_names_the_owner() -> None:
    case = walk(Status.INVESTIGATING)[0]
    change = case.assign("handler-2", SUPERVISOR, T0, "Holiday cover")
    assert change.case.owner == "handler-2" and change.case.version == case.version + 1
    assert change.case.participants == (*case.participants, "handler-2")
    assert (change.entry.kind, change.entry.action, change.entry.reason, change.entry.complainant_visible) == (
        EntryKind.ASSIGNMENT, "assign", "Holiday cover", False)
    assert (change.entry.before, change.entry.after) == ({"owner": "handler-1"}, {"owner": "handler-2"})
    (event,) = change.events
    assert event.type == "CaseAssigned"
    assert event.data == {"action": "assign", "before": {"owner": "handler-1"}, "after": {"owner": "handler-2"},
                          "reason": "Holiday cover", "owner": "handler-2"}
    again = change.case.assign("handler-1", SUPERVISOR, T0)
    assert again.case.participants == change.case.participants  # already took part: listed once


def test_a_note_is_staff_only_and_changes_nothing_else() -> None:
    case = walk(Status.INVESTIGATING)[0]
    change = case.add_note("Called the branch.", HANDLER, T0)
    assert change.case.status is Status.INVESTIGATING and change.case.version == case.version + 1
    assert (change.entry.kind, change.entry.action, change.entry.body, change.entry.complainant_visible) == (
        EntryKind.NOTE, "add_note", "Called the branch.", False)
    assert [e.type for e in change.events] == ["InternalNoteAdded"]
    assert change.events[0].data == {"action": "add_note", "before": {}, "after": {}, "reason": None}


def test_a_message_answers_the_open_question_and_restarts_the_work() -> None:
    waiting = walk(Status.AWAITING_COMPLAINANT)[0]
    assert waiting.information_request is not None
    change = waiting.add_message("The current account.", COMPLAINANT, T0)
    assert change.case.status is Status.INVESTIGATING and change.case.information_request is None
    assert (change.entry.kind, change.entry.action, change.entry.body, change.entry.complainant_visible) == (
        EntryKind.MESSAGE, "add_message", "The current account.", True)
    assert change.entry.before["status"] == "awaiting_complainant"
    assert change.entry.after == {"status": "investigating", "information_request": None}
    assert [e.type for e in change.events] == ["MessageAdded"]


def test_a_message_while_not_waiting_leaves_the_status() -> None:
    case = walk(Status.INVESTIGATING)[0]
    change = case.add_message("One more thing.", COMPLAINANT, T0)
    assert change.case.status is Status.INVESTIGATING
    assert (change.entry.before, change.entry.after) == ({}, {})


def test_a_message_after_closure_is_kept_for_staff_to_decide() -> None:
    closed = walk(Status.CLOSED)[0]
    change = closed.add_message_after_closure("I have new evidence.", COMPLAINANT, closed.closure.reopen_until)
    assert change.case.status is Status.CLOSED
    assert (change.entry.kind, change.entry.action, change.entry.reason, change.entry.body) == (
        EntryKind.MESSAGE, "add_message_after_closure",
        "Received after closure, inside the reopen window: staff to decide whether to reopen", "I have new evidence.")
    assert change.entry.complainant_visible is True
    assert [e.type for e in change.events] == ["MessageAddedAfterClosure"]


@pytest.mark.parametrize("which", ["open", "reopened", "late"])
def test_a_message_after_closure_needs_a_closed_case_inside_its_window(which: str) -> None:
    closed = walk(Status.CLOSED)[0]
    case, at = {"open": (walk(Status.INVESTIGATING)[0], T0),
                "reopened": (steps.reopen(closed, "Back", SUPERVISOR, T0).case, T0),  # open again
                "late": (closed, closed.closure.reopen_until + timedelta(seconds=1))}[which]
    with pytest.raises(ActionNotAllowed) as raised:
        case.add_message_after_closure("Hello", COMPLAINANT, at)
    assert (raised.value.reference, raised.value.action, raised.value.status) == (
        case.reference, "add_message", case.status.value)
    assert raised.value.why == "Only a closed case inside its reopen window takes a message after closure."


def test_a_staff_reply_is_shown_to_the_complainant_with_where_it_went() -> None:
    case = walk(Status.INVESTIGATING)[0]
    change = case.record_staff_reply("We are on it.", HANDLER, T0, to="ada@example.com", message_id="<m1@amends>")
    assert (change.entry.kind, change.entry.action, change.entry.reason, change.entry.body) == (
        EntryKind.MESSAGE, "staff_reply", "Sent by email to ada@example.com as <m1@amends>", "We are on it.")
    assert change.entry.complainant_visible is True
    assert [e.type for e in change.events] == ["StaffReplySent"]
    assert change.events[0].data["reason"] == "Sent by email to ada@example.com as <m1@amends>"


def test_a_bounce_is_a_staff_only_note_by_the_mail_system_cut_to_a_reason() -> None:
    case = walk(Status.INVESTIGATING)[0]
    change = case.record_bounce("x" * (REASON_MAX_CHARS + 5), T0)
    assert change.entry.actor == Actor.system("mail") == Actor(kind="system", id="mail")
    assert (change.entry.kind, change.entry.action, change.entry.complainant_visible) == (
        EntryKind.NOTE, "record_bounce", False)
    assert change.entry.reason == "x" * REASON_MAX_CHARS
    assert [e.type for e in change.events] == ["MailBounced"]
    assert change.case.participants == case.participants  # the system takes no part


def test_a_transition_records_the_staff_who_took_it_once() -> None:
    acknowledged = new_case().apply(Action.ACKNOWLEDGE, Actor.system("case-lifecycle"), T0).case
    assert acknowledged.participants == ()  # the system takes no part
    assert walk(Status.INVESTIGATING)[0].participants == ("handler-1",)  # assessed, then investigated, by one handler
    assert walk(Status.RESPONSE_APPROVED)[0].participants == ("handler-1", "supervisor-1")


def test_a_transition_that_needs_a_reason_refuses_a_blank_one() -> None:
    case = walk(Status.RESPONSE_PROPOSED)[0]
    with pytest.raises(ReasonRequired) as raised:
        case.apply(Action.RETURN_PROPOSAL, SUPERVISOR, T0, "   ")
    assert str(raised.value) == "A reason is required to return proposal."


def test_a_reason_is_at_most_the_short_text_limit() -> None:
    case = walk(Status.RESPONSE_PROPOSED)[0]
    assert case.apply(Action.RETURN_PROPOSAL, SUPERVISOR, T0, "r" * REASON_MAX_CHARS).case.status is (
        Status.INVESTIGATING)
    with pytest.raises(InvalidReason) as raised:
        case.apply(Action.RETURN_PROPOSAL, SUPERVISOR, T0, "r" * (REASON_MAX_CHARS + 1))
    assert str(raised.value) == (f"A reason is at most {REASON_MAX_CHARS} characters; this one has "
                                 f"{REASON_MAX_CHARS + 1}. Put the detail in a note.")


def test_a_step_the_status_does_not_allow_names_what_is_left() -> None:
    case = walk(Status.INVESTIGATING)[0]
    with pytest.raises(ActionNotAllowed) as raised:
        case.apply(Action.ACKNOWLEDGE, HANDLER, T0)
    assert (raised.value.reference, raised.value.action, raised.value.status) == (
        case.reference, "acknowledge", "investigating")
    assert "request_information" in raised.value.allowed_actions


def test_a_listing_shows_the_case_without_its_free_texts() -> None:
    case = walk(Status.INVESTIGATING)[0]
    listing = case.listing()
    assert listing.model_dump() == {
        "reference": case.reference, "version": case.version, "status": Status.INVESTIGATING,
        "priority": case.priority, "owner": "handler-1", "channel": Channel.WEB,
        "product_or_service": "Current account", "received_at": T0, "updated_at": T0}


def test_a_plain_step_is_shown_to_the_complainant_with_its_reason() -> None:
    change = new_case().apply(Action.ACKNOWLEDGE, Actor.system("case-lifecycle"), T0, "Acknowledged by email")
    assert (change.entry.kind, change.entry.action, change.entry.reason, change.entry.body) == (
        EntryKind.TRANSITION, "acknowledge", "Acknowledged by email", None)
    assert change.entry.complainant_visible is True
    assert change.events[0].data == {"action": "acknowledge", "before": {"status": "received"},
                                     "after": {"status": "acknowledged"}, "reason": "Acknowledged by email"}


def test_a_transition_keeps_its_body_and_publishes_its_extra_events() -> None:
    change = new_case().transition(Action.ACKNOWLEDGE, Actor.system("case-lifecycle"), T0, body="Dear Ada",
                                   visible=False, events=(("CaseMerged", {"merged_into": "CMP-2026-AAAAAA"}),))
    assert change.entry.body == "Dear Ada" and change.entry.complainant_visible is False
    assert [e.type for e in change.events] == ["CaseStatusChanged", "CaseMerged"]
    assert change.events[1].data == {"merged_into": "CMP-2026-AAAAAA"}


def test_investigating_without_an_owner_says_how_to_name_one() -> None:
    assessed = walk(Status.ASSESSED)[0]
    with pytest.raises(OwnerRequired) as raised:
        assessed.apply(Action.START_INVESTIGATION, HANDLER, T0)
    assert (raised.value.action, raised.value.status) == ("start_investigation", "assessed")
    assert str(raised.value) == (
        f"Cannot start investigation on complaint {assessed.reference}: it is assessed. Investigating needs an "
        "accountable owner, and this case has none: assign the case first, or name the owner in the same request "
        "(owner). What you can do now: start_investigation, link, assign, add_note, close.")


def test_a_reopen_past_the_window_is_refused_by_the_transition_too() -> None:
    closed = walk(Status.CLOSED)[0]
    with pytest.raises(ReopenWindowClosed) as raised:
        closed.apply(Action.REOPEN, SUPERVISOR, closed.closure.reopen_until + timedelta(seconds=1), "Back")
    assert str(raised.value).startswith(f"Cannot reopen on complaint {closed.reference}: it is closed. It was closed")
    assert raised.value.allowed_actions == ["add_note"]


def test_a_closed_case_offers_a_supervisor_only_its_reopening_and_notes() -> None:
    closed = walk(Status.CLOSED)[0]
    with pytest.raises(ActionNotAllowed) as raised:
        closed.apply(Action.ACKNOWLEDGE, SUPERVISOR, T0)
    assert raised.value.allowed_actions == ["add_note", "reopen"]
    with pytest.raises(ActionNotAllowed) as raised:
        closed.assign("handler-2", SUPERVISOR, T0)
    assert raised.value.allowed_actions == ["add_note", "reopen"]


def test_reopening_a_case_without_an_owner_says_to_name_one_in_the_request() -> None:
    closed = walk(Status.CLOSED)[0].model_copy(update={"owner": None})
    with pytest.raises(OwnerRequired) as raised:
        closed.apply(Action.REOPEN, SUPERVISOR, T0, "Back")
    assert raised.value.why == ("Investigating needs an accountable owner, and this case has none: name the owner in "
                                "the same request (owner): a closed case cannot be assigned.")
    assert raised.value.allowed_actions == ["add_note", "reopen"]


def test_a_step_that_records_more_than_a_reason_points_to_its_command() -> None:
    investigating = walk(Status.INVESTIGATING)[0]
    with pytest.raises(DetailsRequired) as raised:
        investigating.apply(Action.PROPOSE_RESPONSE, HANDLER, T0, "Upheld")
    assert str(raised.value) == ("A case that is response_proposed must have its proposal: use the command for "
                                 "'propose_response' in amends.domain.steps, which records it.")


def test_the_timeline_shows_handling_records_by_their_summary() -> None:
    acknowledged = walk(Status.ACKNOWLEDGED)[0]
    assessed = steps.assess(acknowledged, findings(), HANDLER, T0, RULES)
    assert assessed.entry.after["assessment"] == assessed.case.assessment.summary()
    assert assessed.entry.before["assessment"] is None
    other = new_case("CMP-2026-AAAAAA")
    linked = steps.link(assessed.case, other, LinkRelation.RELATED, HANDLER, T0, POLICY)[0]
    assert linked.entry.before == {"links": []}
    assert linked.entry.after == {"links": [link.summary() for link in linked.case.links]}
    assert linked.entry.after["links"][0] != linked.case.links[0]  # the summary, not the record


def with_sla(rules: list[Rule], **submission: object) -> Case:
    """A case opened under the shipped fca-disp policy, escalated by ``rules``."""
    config = load_config()
    policy = config.policies["fca-disp"]
    sla = CaseSla.open(Pinned.of(policy, config.calendars[policy.calendar], T0), rules)
    return open_case(reference="CMP-2026-7K3F9Q", access_token_hash="x" * 64, submission=make_submission(**submission),
                     channel=Channel.WEB, actor=COMPLAINANT, received_at=T0, received_at_local=T0, sla=sla).case


def early_rule(id_: str, level: int, **conditions: object) -> Rule:
    """A rule on the final response that is reached as soon as 1 % of its time is used."""
    return Rule(id=id_, milestone="final_response", level=level, at_percent=1,
                actions=[RuleAction(do="notify_owner")], **conditions)  # type: ignore[arg-type]


def test_a_case_without_an_sla_never_escalates() -> None:
    assert new_case().escalate(T0 + timedelta(days=365)) is None


def test_escalation_fires_the_rules_for_the_cases_category_status_and_priority_in_one_staff_only_entry() -> None:
    rules = [early_rule("fees", 1, category=["Fees"]), early_rule("other-category", 1, category=["service"]),
             early_rule("investigating", 2, status=["investigating"]), early_rule("waiting", 2, status=["assessed"]),
             early_rule("normal", 3, priority=["normal"]), early_rule("urgent", 3, priority=["urgent"])]
    case = walk(Status.INVESTIGATING, with_sla(rules))[0]  # assessed in category "fees", at normal priority
    assert (case.priority, case.assessment.category) == (Priority.NORMAL, "fees")
    change = case.escalate(T0 + timedelta(days=10))
    fired = [e.data for e in change.events if e.type == "SlaEscalated"]
    assert [(d["rule"], d["level"]) for d in fired] == [("fees", 1), ("investigating", 2), ("normal", 3)]
    assert (change.entry.actor, change.entry.kind, change.entry.action, change.entry.complainant_visible) == (
        Actor.system("sla"), EntryKind.ESCALATION, "escalate", False)
    assert change.entry.reason == " ".join(d["reason"] for d in fired)
    assert change.entry.reason.startswith("Escalation fees level 1: 1 % of the time for final_response used")
    assert [e.type for e in change.events] == ["CaseEscalated", "SlaEscalated", "SlaEscalated", "SlaEscalated"]
    assert fired[0]["owner"] == "handler-1"
    # What the bus carries is plain JSON: the rule's actions as strings, not the rules' own types.
    assert repr(fired[0]) == repr(json.loads(json.dumps(fired[0])))
    assert fired[0]["actions"] == [{"do": "notify_owner", "role": None, "address": None}]


@pytest.mark.parametrize(("reason", "step"), [("resolved", "resolved_and_closed"), ("referred_elsewhere", "referred")])
def test_closing_for_a_reason_the_sla_counts_meets_its_milestone_when_closed(reason: str, step: str) -> None:
    case = walk(Status.INVESTIGATING, with_sla([]))[0]
    at = T0 + timedelta(days=3)
    closed = steps.close(case, ClosureReason(reason), HANDLER, at, POLICY).case
    assert closed.sla.steps[step] == at and closed.sla.steps["closed"] == at
    assert "resolved_and_closed" not in steps.close(case, ClosureReason.WITHDRAWN, HANDLER, at, POLICY).case.sla.steps


def test_the_reply_window_is_set_by_the_decision_and_cleared_when_the_complainant_answers() -> None:
    decided, path = walk(Status.DECISION_COMMUNICATED)
    assert Timer.at(REPLY_WINDOW, decided.reply_due_at) in path[-1].timers
    accepted = steps.accept_decision(decided, COMPLAINANT, decided.updated_at + timedelta(days=1), POLICY)
    assert Timer.cleared(REPLY_WINDOW) in accepted.timers


def test_an_assessment_goes_on_the_timeline_and_the_bus_as_plain_json() -> None:
    acknowledged = walk(Status.ACKNOWLEDGED)[0]
    at = acknowledged.updated_at + timedelta(hours=1)
    change = steps.assess(acknowledged, findings(), HANDLER, at, RULES)
    for carried in (change.entry.after["assessment"], change.events[0].data["after"]["assessment"]):
        assert carried["assessed_at"] == "2026-03-02T10:30:00Z"  # an hour after the walk's last step, as JSON has it
        assert carried["assessed_by"] == HANDLER.id
        json.dumps(carried)  # nothing a JSON encoder cannot write


@pytest.mark.parametrize("condition", [{"category": ["Fees"]}, {"priority": ["normal"]}, {"status": ["investigating"]}])
def test_the_next_sla_check_is_set_by_a_rule_that_applies_to_the_case_as_it_is(condition: dict) -> None:
    """The sweep is brought to the case for a rule only when its category, priority and status match."""
    case = walk(Status.INVESTIGATING, with_sla([early_rule("only", 1, **condition)]))[0]  # fees, normal
    assert case.next_sla_check() is not None
    other = {"category": ["service"], "priority": ["urgent"], "status": ["assessed"]}[next(iter(condition))]
    unmatched = walk(Status.INVESTIGATING, with_sla([early_rule("only", 1, **{next(iter(condition)): other})]))[0]
    assert unmatched.next_sla_check() is None


def test_a_decision_writes_its_reply_window_and_moves_the_sla_check_in_one_change() -> None:
    decided, path = walk(Status.DECISION_COMMUNICATED, with_sla([early_rule("late", 1)]))
    names = {timer.name for timer in path[-1].timers}
    assert names == {REPLY_WINDOW, "sla_check"}


def test_a_note_on_a_case_whose_rule_is_due_moves_no_timer() -> None:
    """A rule already reached keeps the sweep's check at once; a change that is not a step leaves it where it is."""
    case = walk(Status.INVESTIGATING, with_sla([early_rule("due", 1, status=["investigating"])]))[0]
    later = T0 + timedelta(days=20)
    assert case.next_sla_check(at=later) == later  # reached: the sweep fires it on its next run
    assert case.add_note("called back", HANDLER, later).timers == ()
