"""The handling commands' exact words and limits, which test_steps.py checks only in part.

Pinned down here: the fifty-link limit on either case and the relations a link may have; who counts as involved
once named owner; the limits and messages of a reason, a question and a note; the entries a proposal, an approval,
an acceptance and a rejection leave (reason, body, visibility); what closing clears and records; and the sweep
closing an unanswered decision (who, what it says, and only for a case still waiting for the answer).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from amends.domain import steps
from amends.domain.errors import ActionNotAllowed, InvalidLink, InvalidReason, NotUninvolved
from amends.domain.handling import ClosureReason, LinkRelation, Remedy, RemedyKind
from amends.domain.lifecycle import Status
from amends.domain.model import Case

from .cases import (
    ADMIN,
    COMPLAINANT,
    HANDLER,
    HANDLER_2,
    MANAGER,
    POLICY,
    RULES,
    SUPERVISOR,
    SUPERVISOR_2,
    T0,
    content,
    findings,
    new_case,
    walk,
)


def _linked(case: Case, count: int, prefix: str) -> Case:
    """``case`` linked as related to ``count`` other cases."""
    for i in range(count):
        case = steps.link(case, new_case(f"CMP-2026-{prefix}{i:04d}"), LinkRelation.RELATED, HANDLER, T0,
                          POLICY)[0].case
    return case


# -- links --------------------------------------------------------------------------------------------------------


def test_a_case_takes_its_fiftieth_link_but_not_a_fifty_first_on_either_side() -> None:
    full = _linked(new_case("CMP-2026-AAAAAA"), 49, "AA")
    full = steps.link(full, new_case("CMP-2026-BBBBBB"), LinkRelation.RELATED, HANDLER, T0, POLICY)[0].case
    assert len(full.links) == 50
    with pytest.raises(InvalidLink) as refused:
        steps.link(full, new_case("CMP-2026-CCCCCC"), LinkRelation.RELATED, HANDLER, T0, POLICY)
    assert str(refused.value) == "A complaint can have at most 50 links."
    with pytest.raises(InvalidLink) as refused:  # the other case is the full one
        steps.link(new_case("CMP-2026-CCCCCC"), full, LinkRelation.RELATED, HANDLER, T0, POLICY)
    assert str(refused.value) == "A complaint can have at most 50 links."


def test_staff_link_only_as_related_or_duplicate_of() -> None:
    with pytest.raises(InvalidLink) as refused:
        steps.link(new_case("CMP-2026-AAAAAA"), new_case("CMP-2026-BBBBBB"), LinkRelation.MERGED_FROM, HANDLER, T0,
                   POLICY)
    assert str(refused.value) == "Link as related or duplicate_of, not merged_from."


# -- owners are involved for good ---------------------------------------------------------------------------------


def test_an_owner_named_when_the_investigation_starts_took_part_in_it() -> None:
    case = walk(Status.ASSESSED)[0]
    started = steps.start_investigation(case, MANAGER, T0, owner=SUPERVISOR_2.id).case
    assert started.participants == (HANDLER.id, SUPERVISOR_2.id, MANAGER.id)
    # Given to someone else later, the first owner still cannot conclude the review of the case they owned.
    case = started.assign(HANDLER.id, MANAGER, T0).case
    case = steps.propose_response(case, content(), HANDLER, T0, POLICY).case
    case = steps.communicate_decision(case, HANDLER, T0, POLICY).case
    case = steps.reject_decision(case, "Too little", COMPLAINANT, T0, POLICY).case
    with pytest.raises(NotUninvolved):
        steps.conclude_review(case, content(), SUPERVISOR_2, T0, POLICY)


def test_an_owner_named_on_reopening_took_part_in_it() -> None:
    closed = steps.close(new_case(), ClosureReason.WITHDRAWN, HANDLER, T0, POLICY).case
    reopened = steps.reopen(closed, "They changed their mind", ADMIN, T0, owner=HANDLER_2.id)
    assert reopened.case.participants == (HANDLER.id, HANDLER_2.id, ADMIN.id)
    assert reopened.case.closure is None and reopened.case.closure_reason is None
    assert reopened.entry.after["owner"] == HANDLER_2.id


def test_reopening_with_the_owner_it_has_records_no_change_of_owner() -> None:
    case = walk(Status.INVESTIGATING)[0]
    closed = steps.close(case, ClosureReason.RESOLVED, HANDLER, T0, POLICY).case
    reopened = steps.reopen(closed, "The refund never arrived", SUPERVISOR, T0, owner=HANDLER.id)
    assert reopened.case.owner == HANDLER.id and "owner" not in reopened.entry.after


# -- reasons, questions and notes ---------------------------------------------------------------------------------


def test_a_blank_question_or_note_is_refused_with_what_is_missing() -> None:
    with pytest.raises(InvalidReason) as refused:
        steps.request_information(walk(Status.INVESTIGATING)[0], "   ", HANDLER, T0)
    assert str(refused.value) == "A reason is required to request information."
    with pytest.raises(InvalidReason) as refused:
        steps.close(new_case(), ClosureReason.WITHDRAWN, HANDLER, T0, POLICY, note=" \n ")
    assert str(refused.value) == "A reason is required to close."


def test_a_question_has_at_most_two_thousand_characters() -> None:
    case = walk(Status.INVESTIGATING)[0]
    asked = steps.request_information(case, "?" * 2_000, HANDLER, T0)
    assert asked.case.information_request.question == "?" * 2_000
    with pytest.raises(InvalidReason) as refused:
        steps.request_information(case, "?" * 2_001, HANDLER, T0)
    assert str(refused.value) == "A reason is at most 2000 characters; this one has 2001."


def test_a_question_is_recorded_with_who_asked_it_and_why_the_case_waits() -> None:
    asked = steps.request_information(walk(Status.INVESTIGATING)[0], "  Which account?  ", HANDLER, T0)
    request = asked.case.information_request
    assert (request.question, request.asked_by, request.asked_at) == ("Which account?", HANDLER.id, T0)
    assert asked.entry.reason == "We need more information from you"


# -- proposal, approval, the complainant's answer -----------------------------------------------------------------


def test_a_proposal_is_a_staff_only_entry_naming_its_outcome() -> None:
    proposed = steps.propose_response(walk(Status.INVESTIGATING)[0], content(), HANDLER, T0, POLICY)
    assert proposed.entry.reason == "Response proposed: upheld" and not proposed.entry.complainant_visible
    assert proposed.entry.body == proposed.case.proposal.render()
    assert (proposed.case.proposal.proposed_by, proposed.case.proposal.proposed_at) == (HANDLER.id, T0)


def test_the_approval_reasons_say_each_amount_by_currency_then_the_severity() -> None:
    case = steps.assess(walk(Status.ACKNOWLEDGED)[0], findings(severity="critical"), HANDLER, T0, RULES).case
    case = steps.start_investigation(case, HANDLER, T0, owner=HANDLER.id).case
    offer = content(remedies=[Remedy(kind=RemedyKind.MONETARY, amount=Decimal("1234.5"), currency="GBP"),
                              Remedy(kind=RemedyKind.MONETARY, amount=Decimal(600), currency="EUR")])
    assert steps.propose_response(case, offer, HANDLER, T0, POLICY).case.proposal.approval_reasons == [
        "it offers 600.00 EUR, above the approval threshold of 500",
        "it offers 1,234.50 GBP, above the approval threshold of 500",
        "the complaint was assessed as critical severity",
    ]


def test_an_approval_records_when_it_was_given() -> None:
    case = walk(Status.RESPONSE_PROPOSED)[0]
    approved = steps.approve_response(case, SUPERVISOR, T0 + timedelta(hours=2)).case.proposal
    assert (approved.approved_by, approved.approved_at) == (SUPERVISOR.id, T0 + timedelta(hours=2))


def test_an_acceptance_closes_saying_so() -> None:
    accepted = steps.accept_decision(walk(Status.DECISION_COMMUNICATED)[0], COMPLAINANT, T0, POLICY)
    assert accepted.entry.reason == "upheld_monetary_remedy"
    assert accepted.entry.body == "The complainant accepted the decision."
    assert accepted.case.closure.closed_by == COMPLAINANT.id and accepted.case.closure.closed_at == T0


def test_a_rejection_needs_a_reason_and_says_what_it_is_for() -> None:
    case = walk(Status.DECISION_COMMUNICATED)[0]
    with pytest.raises(InvalidReason) as refused:
        steps.reject_decision(case, "", COMPLAINANT, T0, POLICY)
    assert str(refused.value) == ("Tell us why you do not accept the decision: it is what the review (or the "
                                  "ombudsman) will look at.")
    review = steps.reject_decision(case, "  The refund is too small ", COMPLAINANT, T0, POLICY)
    assert review.entry.reason == "The complainant did not accept the decision"
    assert review.entry.body == "The refund is too small"


def test_rejecting_the_final_decision_repeats_the_external_recourse_word_for_word() -> None:
    case = walk(Status.DECISION_COMMUNICATED, occurrence=2)[0]
    closed = steps.reject_decision(case, "Still not enough", COMPLAINANT, T0, POLICY)
    assert closed.entry.body == (
        "The complainant did not accept the final decision: Still not enough\n\nThis was our final decision. You "
        "can refer your complaint to the Financial Ombudsman Service within six months. It is free of charge.")
    assert closed.entry.reason == "upheld_monetary_remedy"


# -- closing ------------------------------------------------------------------------------------------------------


def test_a_duplicate_is_not_closed_by_hand_and_the_refusal_says_how() -> None:
    with pytest.raises(InvalidReason) as refused:
        steps.close(new_case(), ClosureReason.DUPLICATE, HANDLER, T0, POLICY)
    assert str(refused.value) == ("To close a duplicate, link it to the complaint it duplicates (relation "
                                  "duplicate_of): it is then merged, and both timelines say so.")


def test_closing_keeps_the_note_and_clears_the_open_question() -> None:
    waiting = walk(Status.AWAITING_COMPLAINANT)[0]
    closed = steps.close(waiting, ClosureReason.WITHDRAWN, HANDLER, T0, POLICY, note=" They withdrew by phone ").case
    assert closed.closure.note == "They withdrew by phone" and closed.information_request is None
    assert closed.closure.closed_by == HANDLER.id and closed.closure.merged_into is None


def test_closing_clears_the_proposal_under_approval() -> None:
    closed = steps.close(walk(Status.RESPONSE_PROPOSED)[0], ClosureReason.WITHDRAWN, HANDLER, T0, POLICY).case
    assert closed.proposal is None and closed.closure.note is None


# -- the sweep ----------------------------------------------------------------------------------------------------


def test_the_sweep_closes_an_unanswered_decision_in_its_own_name_saying_since_when() -> None:
    case = walk(Status.DECISION_COMMUNICATED)[0]
    closed = steps.close_unanswered(case, case.reply_due_at + timedelta(hours=1), POLICY)
    assert closed.entry.actor.kind == "system" and closed.entry.actor.id == "reply-window"
    assert closed.entry.reason == "no_reply"
    assert closed.entry.body == "No answer to our decision reached us by 30 March 2026."
    assert closed.case.closure.closed_by == "reply-window"


def test_the_sweep_leaves_a_case_no_longer_waiting_for_an_answer_whatever_date_it_carries() -> None:
    decided = walk(Status.DECISION_COMMUNICATED)[0]
    review = steps.reject_decision(decided, "No", COMPLAINANT, T0, POLICY).case
    # As stored by an older version, with the due date of the decision it no longer waits on.
    stale = Case.model_validate({**review.model_dump(), "reply_due_at": decided.reply_due_at})
    assert steps.close_unanswered(stale, decided.reply_due_at + timedelta(days=1), POLICY) is None


# -- a wrong step on a closed case --------------------------------------------------------------------------------

_CLOSED_CASE_STEPS = {
    "assess": lambda c, at: steps.assess(c, findings(), SUPERVISOR, at, RULES),
    "start_investigation": lambda c, at: steps.start_investigation(c, SUPERVISOR, at),
    "request_information": lambda c, at: steps.request_information(c, "Which account?", SUPERVISOR, at),
    "link": lambda c, at: steps.link(c, new_case("CMP-2026-BBBBBB"), LinkRelation.RELATED, SUPERVISOR, at, POLICY),
    "propose_response": lambda c, at: steps.propose_response(c, content(), SUPERVISOR, at, POLICY),
    "approve_response": lambda c, at: steps.approve_response(c, SUPERVISOR, at),
    "return_proposal": lambda c, at: steps.return_proposal(c, "Not yet", SUPERVISOR, at),
    "communicate_decision": lambda c, at: steps.communicate_decision(c, SUPERVISOR, at, POLICY),
    "conclude_review": lambda c, at: steps.conclude_review(c, content(), SUPERVISOR_2, at, POLICY),
    "close": lambda c, at: steps.close(c, ClosureReason.RESOLVED, SUPERVISOR, at, POLICY),
    "accept_decision": lambda c, at: steps.accept_decision(c, COMPLAINANT, at, POLICY),
    "reject_decision": lambda c, at: steps.reject_decision(c, "No", COMPLAINANT, at, POLICY),
}


@pytest.mark.parametrize("step", list(_CLOSED_CASE_STEPS))
def test_a_step_on_a_closed_case_says_what_can_still_be_done_while_it_can_be_reopened(step: str) -> None:
    closed = steps.close(walk(Status.INVESTIGATING)[0], ClosureReason.RESOLVED, HANDLER, T0, POLICY).case
    with pytest.raises(ActionNotAllowed) as refused:
        _CLOSED_CASE_STEPS[step](closed, T0 + timedelta(days=1))
    assert refused.value.status == "closed"
    staff = ["add_note", "reopen"] if step not in {"accept_decision", "reject_decision"} else []
    assert refused.value.allowed_actions == staff
