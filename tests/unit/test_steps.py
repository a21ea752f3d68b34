"""Each rule of handling a complaint (ISO 10002 7.5-7.9), one by one, on the domain's commands."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from amends.domain import steps
from amends.domain.errors import (
    ActionNotAllowed,
    ApprovalRequired,
    DetailsRequired,
    Forbidden,
    FourEyesRequired,
    InvalidLink,
    InvalidReason,
    NotUninvolved,
    OwnerRequired,
    ReasonRequired,
    ReopenWindowClosed,
)
from amends.domain.handling import ClosureReason, LinkRelation, Outcome, Remedy, RemedyKind
from amends.domain.lifecycle import Action, Status, allowed_actions
from amends.domain.model import Priority
from amends.domain.permissions import Command
from pydantic import ValidationError

from .cases import (
    ADMIN,
    AUDITOR,
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

# -- assessment ---------------------------------------------------------------------------------------------------


def test_a_safety_risk_makes_the_case_urgent_at_once_and_flags_it_once() -> None:
    case = walk(Status.ACKNOWLEDGED)[0]
    change = steps.assess(case, findings(severity="low", impact="low", safety_risk=True), HANDLER, T0, RULES)
    assert change.case.priority is Priority.URGENT and change.case.status is Status.ASSESSED
    assert [e.type for e in change.events] == ["CaseStatusChanged", "UrgentCaseFlagged"]
    assert change.events[1].data == {"priority_before": "normal", "priority": "urgent", "safety_risk": True,
                                     "severity": "low", "immediate_action": False, "category": "fees"}
    assert change.case.assessment.assessed_by == HANDLER.id
    # Already urgent at receipt (the complainant said so): no second flag.
    urgent = walk(Status.ACKNOWLEDGED, new_case(safety_concern=True))[0]
    again = steps.assess(urgent, findings(safety_risk=True), HANDLER, T0, RULES)
    assert [e.type for e in again.events] == ["CaseStatusChanged"]


def test_the_assessment_sets_the_priority_by_the_rules() -> None:
    case = walk(Status.ACKNOWLEDGED)[0]
    for found, priority in [({"severity": "critical"}, Priority.URGENT), ({"severity": "high"}, Priority.HIGH),
                            ({"immediate_action": True}, Priority.HIGH), ({"severity": "low", "impact": "low"},
                                                                          Priority.LOW),
                            ({}, Priority.NORMAL)]:
        assert steps.assess(case, findings(**found), HANDLER, T0, RULES).case.priority is priority, found


def test_an_assessment_is_recorded_only_by_its_command() -> None:
    with pytest.raises(DetailsRequired):
        walk(Status.ACKNOWLEDGED)[0].apply(Action.ASSESS, HANDLER, T0)


# -- investigation ------------------------------------------------------------------------------------------------


def test_investigating_needs_an_accountable_owner() -> None:
    case = walk(Status.ASSESSED)[0]
    with pytest.raises(OwnerRequired) as refused:  # a bare transition cannot leave it without one
        case.apply(Action.START_INVESTIGATION, HANDLER, T0)
    assert refused.value.status == "assessed" and "accountable owner" in str(refused.value)
    assert "start_investigation" in refused.value.allowed_actions
    started = steps.start_investigation(case, HANDLER_2, T0, owner=HANDLER_2.id).case  # the one named
    assert started.status is Status.INVESTIGATING and started.owner == HANDLER_2.id
    assert HANDLER_2.id in started.participants
    assigned = case.assign(HANDLER_2.id, SUPERVISOR, T0).case  # else the owner the case already has
    assert steps.start_investigation(assigned, HANDLER, T0).case.owner == HANDLER_2.id


def test_starting_an_investigation_nobody_has_taken_makes_the_starter_accountable() -> None:
    case = walk(Status.ASSESSED)[0]
    assert case.owner is None and "start_investigation" in allowed_actions(case.status)
    started = steps.start_investigation(case, SUPERVISOR, T0)
    assert started.case.status is Status.INVESTIGATING and started.case.owner == SUPERVISOR.id
    assert SUPERVISOR.id in started.case.participants


def test_a_handler_names_only_themselves_as_owner() -> None:
    case = walk(Status.ASSESSED)[0]
    with pytest.raises(Forbidden, match="only to themselves"):
        steps.start_investigation(case, HANDLER, T0, owner=HANDLER_2.id)
    assert steps.start_investigation(case, SUPERVISOR, T0, owner=HANDLER_2.id).case.owner == HANDLER_2.id


def test_a_question_waits_for_the_complainant_whose_next_message_resumes() -> None:
    case = walk(Status.INVESTIGATING)[0]
    asked = steps.request_information(case, "Which account was charged?", HANDLER, T0)
    assert asked.case.status is Status.AWAITING_COMPLAINANT
    assert asked.entry.complainant_visible and asked.entry.body == "Which account was charged?"
    assert "Which account" not in str(asked.events[0].data)  # the question stays in the case, off the bus
    resumed = asked.case.add_message("The current account", COMPLAINANT, T0).case
    assert resumed.status is Status.INVESTIGATING and resumed.information_request is None
    with pytest.raises(InvalidReason):
        steps.request_information(case, "x" * 2_001, HANDLER, T0)


# -- links and merges ---------------------------------------------------------------------------------------------


def test_related_cases_link_both_ways_for_staff_only() -> None:
    one, other = walk(Status.INVESTIGATING)[0], new_case("CMP-2026-AAAAAA")
    mine, theirs = steps.link(one, other, LinkRelation.RELATED, HANDLER, T0, POLICY)
    assert mine.case.links[0].reference == other.reference and theirs.case.links[0].reference == one.reference
    assert mine.case.status is Status.INVESTIGATING and not mine.entry.complainant_visible
    assert [e.type for e in mine.events + theirs.events] == ["CaseLinked", "CaseLinked"]
    with pytest.raises(InvalidLink, match="already linked"):
        steps.link(mine.case, theirs.case, LinkRelation.RELATED, HANDLER, T0, POLICY)
    with pytest.raises(InvalidLink, match="itself"):
        steps.link(one, one, LinkRelation.RELATED, HANDLER, T0, POLICY)


def test_a_duplicate_is_closed_and_merged_and_both_timelines_say_so() -> None:
    duplicate, original = new_case("CMP-2026-BBBBBB"), walk(Status.INVESTIGATING)[0]
    closed, kept = steps.link(duplicate, original, LinkRelation.DUPLICATE_OF, HANDLER, T0, POLICY)
    assert closed.case.status is Status.CLOSED and closed.case.closure_reason is ClosureReason.DUPLICATE
    assert closed.case.closure.merged_into == original.reference
    assert closed.case.closure.reopen_until == T0 + timedelta(days=56)
    assert [e.type for e in closed.events] == ["CaseStatusChanged", "CaseMerged"]
    assert closed.events[1].data == {"merged_into": original.reference}
    assert closed.entry.complainant_visible and original.reference in closed.entry.body
    assert kept.entry.complainant_visible and duplicate.reference in kept.entry.body
    assert kept.case.status is Status.INVESTIGATING and kept.case.links[0].relation is LinkRelation.MERGED_FROM
    assert closed.expected_version == duplicate.version and kept.expected_version == original.version


def test_nothing_merges_into_a_closed_case() -> None:
    closed = steps.close(new_case("CMP-2026-CCCCCC"), ClosureReason.WITHDRAWN, HANDLER, T0, POLICY).case
    with pytest.raises(InvalidLink, match="closed"):
        steps.link(new_case(), closed, LinkRelation.DUPLICATE_OF, HANDLER, T0, POLICY)


# -- proposal and four eyes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("money", "needs"), [(None, False), ("500", False), ("500.01", True)])
def test_money_above_the_threshold_needs_approval(money: str | None, needs: bool) -> None:
    case = walk(Status.INVESTIGATING)[0]
    proposal = steps.propose_response(case, content(money=money), HANDLER, T0, POLICY).case.proposal
    assert proposal.needs_approval is needs
    assert bool(proposal.approval_reasons) is needs


def test_payments_in_one_currency_count_together_others_apart() -> None:
    case = walk(Status.INVESTIGATING)[0]
    split = content(remedies=[Remedy(kind=RemedyKind.MONETARY, amount=Decimal(300), currency="GBP"),
                              Remedy(kind=RemedyKind.MONETARY, amount=Decimal(300), currency="GBP")])
    assert steps.propose_response(case, split, HANDLER, T0, POLICY).case.proposal.needs_approval
    apart = content(remedies=[Remedy(kind=RemedyKind.MONETARY, amount=Decimal(300), currency="GBP"),
                              Remedy(kind=RemedyKind.MONETARY, amount=Decimal(300), currency="EUR")])
    assert not steps.propose_response(case, apart, HANDLER, T0, POLICY).case.proposal.needs_approval


@pytest.mark.parametrize("severity", ["high", "critical"])
def test_a_serious_complaint_needs_approval_whatever_the_money(severity: str) -> None:
    case = walk(Status.ACKNOWLEDGED)[0]
    case = steps.assess(case, findings(severity=severity), HANDLER, T0, RULES).case
    case = steps.start_investigation(case, HANDLER, T0, owner=HANDLER.id).case
    proposal = steps.propose_response(case, content(), HANDLER, T0, POLICY).case.proposal
    assert proposal.needs_approval and f"assessed as {severity}" in proposal.approval_reasons[0]


def test_a_remedy_has_money_exactly_when_monetary_and_a_response_has_reasons() -> None:
    with pytest.raises(ValidationError, match="amount and a currency"):
        Remedy(kind=RemedyKind.MONETARY, amount=Decimal(10))
    with pytest.raises(ValidationError, match="only a monetary remedy"):
        Remedy(kind=RemedyKind.APOLOGY, amount=Decimal(10), currency="GBP")
    with pytest.raises(ValidationError):
        Remedy(kind=RemedyKind.MONETARY, amount=Decimal(0), currency="GBP")
    with pytest.raises(ValidationError, match="reasons"):
        content(reasons="   ")


def test_four_eyes_the_proposer_never_approves_nor_does_a_handler() -> None:
    case = walk(Status.INVESTIGATING)[0]
    by_supervisor = steps.propose_response(case, content(money="900"), SUPERVISOR, T0, POLICY).case
    with pytest.raises(FourEyesRequired):
        steps.approve_response(by_supervisor, SUPERVISOR, T0)
    with pytest.raises(FourEyesRequired):  # not through the bare transition either
        by_supervisor.apply(Action.APPROVE_RESPONSE, SUPERVISOR, T0)
    with pytest.raises(Forbidden, match="supervisor or manager"):
        steps.approve_response(by_supervisor, HANDLER, T0)
    with pytest.raises(Forbidden):
        steps.approve_response(by_supervisor, ADMIN, T0)
    approved = steps.approve_response(by_supervisor, MANAGER, T0)
    assert approved.case.proposal.approved_by == MANAGER.id and not approved.entry.complainant_visible


def test_a_returned_proposal_leaves_the_case_but_not_the_timeline() -> None:
    case, changes = walk(Status.RESPONSE_PROPOSED)
    returned = steps.return_proposal(case, "The dates do not match the statement", SUPERVISOR, T0)
    assert returned.case.status is Status.INVESTIGATING and returned.case.proposal is None
    assert not returned.entry.complainant_visible and returned.entry.before["proposal"]["outcome"] == "upheld"
    assert "We charged the fee twice." in changes[-1].entry.body
    with pytest.raises(ReasonRequired):
        steps.return_proposal(case, " ", SUPERVISOR, T0)


# -- decision and the complainant's answer ------------------------------------------------------------------------


def test_no_decision_without_the_approval_it_needs() -> None:
    case = walk(Status.RESPONSE_PROPOSED)[0]  # 900 GBP: needs approval
    with pytest.raises(ApprovalRequired) as refused:
        steps.communicate_decision(case, HANDLER, T0, POLICY)
    assert refused.value.status == "response_proposed" and "900.00 GBP" in str(refused.value)
    assert Command.COMMUNICATE_DECISION not in refused.value.allowed_actions
    small = steps.propose_response(walk(Status.INVESTIGATING)[0], content(money="20"), HANDLER, T0, POLICY).case
    assert steps.communicate_decision(small, HANDLER, T0, POLICY).case.status is Status.DECISION_COMMUNICATED


def test_a_decision_carries_reasons_remedies_recourse_and_a_reply_date() -> None:
    case = walk(Status.RESPONSE_APPROVED)[0]
    change = steps.communicate_decision(case, HANDLER, T0, POLICY)
    decision = change.case.decision
    assert decision.outcome is Outcome.UPHELD and decision.reasons and not decision.final
    assert decision.recourse.external.body == "the Financial Ombudsman Service"
    assert decision.recourse.internal_review and "review" in decision.recourse.internal_review
    assert change.case.reply_due_at == T0 + timedelta(days=28) and change.case.proposal is None
    assert [e.type for e in change.events] == ["CaseStatusChanged", "DecisionCommunicated"]
    assert change.events[1].data["money"] == {"GBP": "900"} and change.events[1].data["final"] is False
    for words in ("We charged the fee twice.", "900.00 GBP", "six months", "Financial Ombudsman Service"):
        assert words in change.entry.body
    assert change.entry.complainant_visible


@pytest.mark.parametrize(("outcome", "money", "reason"), [
    (Outcome.UPHELD, "20", ClosureReason.UPHELD_MONETARY_REMEDY),
    (Outcome.PARTLY_UPHELD, None, ClosureReason.UPHELD_NON_MONETARY_REMEDY),
    (Outcome.NOT_UPHELD, None, ClosureReason.NOT_UPHELD),
])
def test_acceptance_closes_with_the_reason_the_decision_gives(outcome, money, reason) -> None:
    case = walk(Status.INVESTIGATING)[0]
    case = steps.propose_response(case, content(outcome, money=money), HANDLER, T0, POLICY).case
    case = steps.communicate_decision(case, HANDLER, T0, POLICY).case
    closed = steps.accept_decision(case, COMPLAINANT, T0 + timedelta(days=3), POLICY).case
    assert closed.status is Status.CLOSED and closed.closure_reason is reason and closed.reply_due_at is None
    assert closed.closure.reopen_until == T0 + timedelta(days=3 + 56)


def test_a_first_rejection_opens_an_internal_review() -> None:
    case = walk(Status.DECISION_COMMUNICATED)[0]
    with pytest.raises(InvalidReason, match="why"):
        steps.reject_decision(case, "  ", COMPLAINANT, T0, POLICY)
    review = steps.reject_decision(case, "The refund is too small", COMPLAINANT, T0, POLICY)
    assert review.case.status is Status.INTERNAL_REVIEW and review.entry.body == "The refund is too small"
    assert review.case.reply_due_at is None


def test_only_someone_who_took_no_part_concludes_the_review_as_the_final_decision() -> None:
    case = walk(Status.INTERNAL_REVIEW)[0]
    assert {HANDLER.id, SUPERVISOR.id} <= set(case.participants)  # owner and proposer; approver
    for involved in (SUPERVISOR,):
        with pytest.raises(NotUninvolved):
            steps.conclude_review(case, content(), involved, T0, POLICY)
    owned_by_manager = case.assign(MANAGER.id, SUPERVISOR, T0).case
    with pytest.raises(NotUninvolved):
        steps.conclude_review(owned_by_manager, content(), MANAGER, T0, POLICY)
    with pytest.raises(Forbidden):
        steps.conclude_review(case, content(), HANDLER_2, T0, POLICY)  # uninvolved, but a handler
    final = steps.conclude_review(case, content(Outcome.PARTLY_UPHELD), SUPERVISOR_2, T0, POLICY)
    assert final.case.status is Status.DECISION_COMMUNICATED and final.case.decision.final
    assert final.case.decision.recourse.internal_review is None and final.events[1].data["final"] is True
    assert "final decision" in final.entry.body


def test_rejecting_a_final_decision_closes_with_the_external_recourse_repeated() -> None:
    case = walk(Status.DECISION_COMMUNICATED, occurrence=2)[0]
    closed = steps.reject_decision(case, "Still not enough", COMPLAINANT, T0, POLICY)
    assert closed.case.status is Status.CLOSED
    assert closed.case.closure_reason is ClosureReason.UPHELD_MONETARY_REMEDY
    assert "Still not enough" in closed.entry.body and "Financial Ombudsman Service" in closed.entry.body


def test_silence_closes_with_no_reply_only_once_the_answer_is_due() -> None:
    case = walk(Status.DECISION_COMMUNICATED)[0]
    assert steps.close_unanswered(case, case.reply_due_at - timedelta(seconds=1), POLICY) is None
    closed = steps.close_unanswered(case, case.reply_due_at, POLICY)
    assert closed.case.closure_reason is ClosureReason.NO_REPLY and closed.entry.actor.kind == "system"
    assert steps.close_unanswered(closed.case, case.reply_due_at, POLICY) is None  # the sweep may come again
    answered = steps.reject_decision(case, "No", COMPLAINANT, T0, POLICY).case
    assert steps.close_unanswered(answered, case.reply_due_at + timedelta(days=1), POLICY) is None


# -- closure and reopening ----------------------------------------------------------------------------------------


def test_staff_close_with_a_reason_from_the_list_and_a_note() -> None:
    case = walk(Status.INVESTIGATING)[0]
    closed = steps.close(case, ClosureReason.REFERRED_ELSEWHERE, HANDLER, T0, POLICY, note="Sent to the insurer")
    assert closed.case.closure.reason is ClosureReason.REFERRED_ELSEWHERE and closed.entry.body == "Sent to the insurer"
    assert closed.entry.reason == "referred_elsewhere" and "Sent to" not in str(closed.events[0].data)
    with pytest.raises(InvalidReason, match="duplicate_of"):
        steps.close(case, ClosureReason.DUPLICATE, HANDLER, T0, POLICY)
    with pytest.raises(ValueError):
        ClosureReason("because")
    with pytest.raises(ActionNotAllowed):
        steps.close(closed.case, ClosureReason.RESOLVED, HANDLER, T0, POLICY)


def test_reopening_inside_the_window_and_why_not_after_it() -> None:
    closed = steps.close(walk(Status.INVESTIGATING)[0], ClosureReason.RESOLVED, HANDLER, T0, POLICY).case
    last = closed.closure.reopen_until
    reopened = steps.reopen(closed, "The refund never arrived", SUPERVISOR, last).case
    assert reopened.status is Status.INVESTIGATING and reopened.closure is None and reopened.closure_reason is None
    with pytest.raises(ReopenWindowClosed) as refused:
        steps.reopen(closed, "The refund never arrived", SUPERVISOR, last + timedelta(seconds=1))
    message = str(refused.value)
    assert "closed on 02 March 2026" in message and "56 days" in message and "27 April 2026" in message
    assert "new complaint" in message and refused.value.status == "closed"
    with pytest.raises(Forbidden):
        steps.reopen(closed, "again", HANDLER, T0)


def test_a_case_closed_unowned_is_reopened_with_an_owner() -> None:
    closed = steps.close(new_case(), ClosureReason.WITHDRAWN, HANDLER, T0, POLICY).case
    assert steps.reopen(closed, "They changed their mind", ADMIN, T0, owner=HANDLER.id).case.owner == HANDLER.id
    # None named: whoever reopens it is accountable (a closed case cannot be assigned first).
    assert steps.reopen(closed, "They changed their mind", ADMIN, T0).case.owner == ADMIN.id


# -- wrong steps and roles ----------------------------------------------------------------------------------------


def test_a_wrong_step_says_the_status_and_what_can_be_done_now() -> None:
    case = walk(Status.INVESTIGATING)[0]
    with pytest.raises(ActionNotAllowed) as refused:
        steps.approve_response(case, SUPERVISOR, T0)
    assert refused.value.status == "investigating"
    assert refused.value.allowed_actions == ["request_information", "link", "assign", "add_note",
                                             "propose_response", "close"]
    assert "What you can do now: request_information" in str(refused.value)


def test_auditors_and_complainants_take_no_staff_step() -> None:
    case = walk(Status.ACKNOWLEDGED)[0]
    with pytest.raises(Forbidden, match="Auditors have read-only access"):
        steps.assess(case, findings(), AUDITOR, T0, RULES)
    with pytest.raises(Forbidden, match="Only staff"):
        steps.assess(case, findings(), COMPLAINANT, T0, RULES)
    decided = walk(Status.DECISION_COMMUNICATED)[0]
    with pytest.raises(Forbidden, match="Only the complainant"):
        steps.accept_decision(decided, HANDLER, T0, POLICY)
