"""The words and edges of the permission rules: the exact refusal each person gets (role, assignment, four eyes,
an uninvolved reviewer, approval first, the reopen window), that roles count only for staff, that the case's
owner counts as involved, and that a wrong step names the case, the step and the actions left."""

from __future__ import annotations

from datetime import timedelta

import pytest
from amends.domain import steps
from amends.domain.errors import (
    ActionNotAllowed,
    ApprovalRequired,
    Forbidden,
    FourEyesRequired,
    NotUninvolved,
    ReopenWindowClosed,
)
from amends.domain.handling import ClosureReason
from amends.domain.lifecycle import Action, Status
from amends.domain.model import Actor
from amends.domain.permissions import (
    Command,
    allowed_actions_for,
    assignment_refusal,
    authorise,
    involved,
    refusal,
    role_allows,
)

from .cases import (
    ADMIN,
    AUDITOR,
    COMPLAINANT,
    HANDLER,
    MANAGER,
    POLICY,
    RULES,
    SUPERVISOR,
    SYSTEM,
    T0,
    content,
    findings,
    walk,
)

CASEWORK = "handler, supervisor, manager or admin"


def message(error: Exception | None) -> str:
    assert error is not None
    return str(error)


# -- assigning -----------------------------------------------------------------------------------------------------


def test_an_auditor_may_not_assign_and_is_told_which_roles_can() -> None:
    refused = assignment_refusal(AUDITOR, AUDITOR.id)
    assert type(refused) is Forbidden
    assert message(refused) == ("Auditors have read-only access; assigning a case needs the supervisor, manager or "
                                "admin role (or the handler role, to take a case for yourself).")


def test_a_handler_assigns_only_to_themselves() -> None:
    assert assignment_refusal(HANDLER, HANDLER.id) is None
    assert message(assignment_refusal(HANDLER, "handler-2")) == (
        "Only a supervisor, manager or admin can assign a case to someone else; a handler can assign a case only "
        "to themselves.")


@pytest.mark.parametrize("assigner", [SUPERVISOR, MANAGER, ADMIN])
def test_a_supervisor_manager_or_admin_assigns_to_anyone(assigner: Actor) -> None:
    assert assignment_refusal(assigner, "handler-2") is None
    assert assignment_refusal(assigner, assigner.id) is None


@pytest.mark.parametrize("kind", ["complainant", "system"])
def test_roles_count_only_for_staff(kind: str) -> None:
    """Someone who is not staff gets nothing from roles they carry: no assigning, no staff command."""
    outsider = Actor(kind=kind, id="x-1", roles=("admin", "supervisor"))  # type: ignore[arg-type]
    assert isinstance(assignment_refusal(outsider, "x-1"), Forbidden)
    assert not role_allows(Command.ASSIGN, outsider)
    assert not role_allows(Command.REOPEN, outsider)


def test_the_system_takes_no_command_of_the_table() -> None:
    assert [c for c in Command if role_allows(c, SYSTEM)] == []


# -- the role refusal's words ----------------------------------------------------------------------------------------


def test_a_complainant_is_told_only_staff_can() -> None:
    case = walk(Status.ASSESSED)[0]
    assert message(refusal(Command.START_INVESTIGATION, case, COMPLAINANT, T0)) == "Only staff can start investigation."


def test_staff_are_told_only_the_complainant_can() -> None:
    case = walk(Status.DECISION_COMMUNICATED)[0]
    assert message(refusal(Command.ACCEPT_DECISION, case, SUPERVISOR, T0)) == "Only the complainant can accept decision."


def test_an_auditor_is_reminded_of_read_only_access() -> None:
    case = walk(Status.ACKNOWLEDGED)[0]
    assert message(refusal(Command.ASSESS, case, AUDITOR, T0)) == (
        f"Auditors have read-only access. Only staff with the {CASEWORK} role can assess.")


def test_the_roles_that_can_are_named_in_the_role_order() -> None:
    proposed = walk(Status.RESPONSE_PROPOSED)[0]
    closed = walk(Status.CLOSED)[0]
    assert message(refusal(Command.APPROVE_RESPONSE, proposed, HANDLER, T0)) == (
        "Only staff with the supervisor or manager role can approve response.")
    assert message(refusal(Command.REOPEN, closed, HANDLER, T0)) == (
        "Only staff with the supervisor, manager or admin role can reopen.")
    two_roles = Actor(kind="staff", id="a-1", roles=("auditor", "handler"))  # not only an auditor: no reminder
    assert message(refusal(Command.APPROVE_RESPONSE, proposed, two_roles, T0)) == (
        "Only staff with the supervisor or manager role can approve response.")


# -- the rules about persons, also for a transition taken without the command's check ----------------------------------


def test_the_approve_transition_itself_needs_a_senior_role() -> None:
    proposed = walk(Status.RESPONSE_PROPOSED)[0]
    with pytest.raises(Forbidden) as raised:
        proposed.apply(Action.APPROVE_RESPONSE, ADMIN, T0)
    assert str(raised.value) == "Approving a response needs the supervisor or manager role."
    with pytest.raises(Forbidden):
        proposed.apply(Action.APPROVE_RESPONSE, Actor(kind="system", id="x", roles=("supervisor",)), T0)


def test_nobody_approves_their_own_proposal() -> None:
    investigating = walk(Status.INVESTIGATING)[0]
    proposed = steps.propose_response(investigating, content(money="900"), SUPERVISOR, T0, POLICY).case
    with pytest.raises(FourEyesRequired) as raised:
        steps.approve_response(proposed, SUPERVISOR, T0)
    assert str(raised.value) == ("You proposed this response, so someone else must approve it: a supervisor or "
                                 "manager who did not propose it (four eyes).")
    assert steps.approve_response(proposed, MANAGER, T0).case.status is Status.RESPONSE_APPROVED


def test_the_conclude_review_transition_itself_needs_a_senior_role() -> None:
    review = walk(Status.INTERNAL_REVIEW)[0]
    with pytest.raises(Forbidden) as raised:
        review.apply(Action.CONCLUDE_REVIEW, ADMIN, T0)
    assert str(raised.value) == "Concluding an internal review needs the supervisor or manager role."
    with pytest.raises(Forbidden):
        review.apply(Action.CONCLUDE_REVIEW, Actor(kind="system", id="x", roles=("manager",)), T0)


def test_whoever_took_part_may_not_conclude_the_review() -> None:
    review = walk(Status.INTERNAL_REVIEW)[0]  # the supervisor approved its response
    with pytest.raises(NotUninvolved) as raised:
        steps.conclude_review(review, content(), SUPERVISOR, T0, POLICY)
    assert str(raised.value) == (
        "You took part in this complaint (as owner, or in one of its steps), so you cannot conclude its internal "
        "review: it needs a supervisor or manager who took no part in it.")
    assert Command.CONCLUDE_REVIEW not in allowed_actions_for(review, SUPERVISOR, T0)
    assert Command.CONCLUDE_REVIEW in allowed_actions_for(review, MANAGER, T0)


def test_the_owner_counts_as_involved_even_when_not_among_the_participants() -> None:
    review = walk(Status.INTERNAL_REVIEW)[0].model_copy(update={"owner": "manager-1"})
    assert involved(review) == {"handler-1", "supervisor-1", "manager-1"}
    with pytest.raises(NotUninvolved):
        steps.conclude_review(review, content(), MANAGER, T0, POLICY)
    assert involved(review.model_copy(update={"owner": None})) == {"handler-1", "supervisor-1"}


def test_communicating_before_approval_says_why_approval_is_needed() -> None:
    proposed = walk(Status.RESPONSE_PROPOSED)[0]
    with pytest.raises(ApprovalRequired) as raised:
        steps.communicate_decision(proposed, HANDLER, T0, POLICY)
    assert raised.value.reference == proposed.reference
    assert raised.value.action == "communicate_decision"
    assert raised.value.status == "response_proposed"
    assert str(raised.value) == (
        f"Cannot communicate decision on complaint {proposed.reference}: it is response_proposed. The proposed "
        "response needs approval by a supervisor or manager first (it offers 900.00 GBP, above the approval "
        "threshold of 500). What you can do now: link, assign, add_note, close.")


def test_without_a_proposal_the_reason_is_that_none_is_proposed() -> None:
    proposed = walk(Status.RESPONSE_PROPOSED)[0].model_copy(update={"proposal": None})
    with pytest.raises(ApprovalRequired, match=r"first \(no response is proposed\)\."):
        proposed.apply(Action.COMMUNICATE_DECISION, HANDLER, T0)


def test_a_proposal_that_needs_no_approval_is_communicated() -> None:
    investigating = walk(Status.INVESTIGATING)[0]
    proposed = steps.propose_response(investigating, content(money="100"), HANDLER, T0, POLICY).case
    assert Command.COMMUNICATE_DECISION in allowed_actions_for(proposed, HANDLER, T0)
    assert steps.communicate_decision(proposed, HANDLER, T0, POLICY).case.status is Status.DECISION_COMMUNICATED


def test_a_reopen_too_late_gives_the_dates_and_the_window() -> None:
    closed = steps.close(walk(Status.INVESTIGATING)[0], ClosureReason.RESOLVED, HANDLER, T0, POLICY).case
    late = T0 + timedelta(days=56, seconds=1)
    with pytest.raises(ReopenWindowClosed) as raised:
        steps.reopen(closed, "Back", SUPERVISOR, late)
    assert (raised.value.reference, raised.value.action, raised.value.status) == (closed.reference, "reopen", "closed")
    assert str(raised.value) == (
        f"Cannot reopen on complaint {closed.reference}: it is closed. It was closed on 02 March 2026, and the 56 "
        "days in which it could be reopened ended on 27 April 2026. File a new complaint instead, quoting "
        f"{closed.reference}. What you can do now: add_note.")


# -- a wrong step ---------------------------------------------------------------------------------------------------


def test_a_wrong_step_names_the_case_the_step_and_what_is_left() -> None:
    closed = walk(Status.CLOSED)[0]
    with pytest.raises(ActionNotAllowed) as raised:
        authorise(Command.ASSIGN, closed, HANDLER, T0)
    error = raised.value
    assert type(error) is ActionNotAllowed
    assert (error.reference, error.action, error.status, error.allowed_actions) == (
        closed.reference, "assign", "closed", ["add_note"])
    assert str(error) == (f"Cannot assign on complaint {closed.reference}: it is closed. "
                          "What you can do now: add_note.")


def test_a_role_refusal_is_not_dressed_as_a_wrong_step() -> None:
    closed = walk(Status.CLOSED)[0]
    with pytest.raises(Forbidden) as raised:
        authorise(Command.REOPEN, closed, HANDLER, T0)
    assert str(raised.value) == "Only staff with the supervisor, manager or admin role can reopen."


def test_a_refusal_carries_the_case_the_step_and_the_status() -> None:
    closed, proposed = walk(Status.CLOSED)[0], walk(Status.RESPONSE_PROPOSED)[0]
    late = closed.closure.reopen_until + timedelta(seconds=1)
    for error, step, status in [(refusal(Command.ASSIGN, closed, HANDLER, T0), "assign", "closed"),
                                (refusal(Command.COMMUNICATE_DECISION, proposed, HANDLER, T0), "communicate_decision",
                                 "response_proposed"),
                                (refusal(Command.REOPEN, closed, SUPERVISOR, late), "reopen", "closed")]:
        assert isinstance(error, ActionNotAllowed)
        case = proposed if status == "response_proposed" else closed
        assert (error.reference, error.action, error.status) == (case.reference, step, status)


def test_every_reason_for_approval_is_given() -> None:
    assessed = steps.assess(walk(Status.ACKNOWLEDGED)[0], findings(severity="high"), HANDLER, T0, RULES).case
    investigating = steps.start_investigation(assessed, HANDLER, T0, owner=HANDLER.id).case
    proposed = steps.propose_response(investigating, content(money="900"), HANDLER, T0, POLICY).case
    with pytest.raises(ApprovalRequired) as raised:
        steps.communicate_decision(proposed, HANDLER, T0, POLICY)
    assert ("first (it offers 900.00 GBP, above the approval threshold of 500; the complaint was assessed as high "
            "severity).") in str(raised.value)


def test_a_case_reopens_at_the_last_second_of_its_window() -> None:
    closed = walk(Status.CLOSED)[0]
    assert steps.reopen(closed, "Back", SUPERVISOR, closed.closure.reopen_until).case.status is Status.INVESTIGATING


def test_a_reopened_case_is_worked_on_after_the_old_window_ended() -> None:
    closed = walk(Status.CLOSED)[0]
    reopened = steps.reopen(closed, "Back", SUPERVISOR, T0).case
    later = closed.closure.reopen_until + timedelta(days=1)
    proposed = steps.propose_response(reopened, content(), HANDLER, later, POLICY).case
    assert proposed.status is Status.RESPONSE_PROPOSED
