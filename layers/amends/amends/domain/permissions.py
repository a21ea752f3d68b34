"""Who may do what to a case, and when: the role table as data, the rules about persons, and from them the list of
actions a given person may take now.

A command is refused, in this order, when the person's role does not allow it (``Forbidden``), when the case's
state does not (``ActionNotAllowed``, with the actions allowed instead), or when a rule about persons does (four
eyes: nobody approves their own proposal; an internal review is concluded only by someone who took no part).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from amends.domain.errors import (
    ActionNotAllowed,
    ApprovalRequired,
    DomainError,
    Forbidden,
    FourEyesRequired,
    NotUninvolved,
    ReopenWindowClosed,
)
from amends.domain.lifecycle import OPEN_STATUSES, Action, Status, target_of
from amends.domain.model import Actor, Role

if TYPE_CHECKING:
    from amends.domain.model import Case


class Command(StrEnum):
    """What a person can do to a case (the names the API lists as allowed actions)."""

    ASSESS = "assess"
    START_INVESTIGATION = "start_investigation"
    REQUEST_INFORMATION = "request_information"
    LINK = "link"
    ASSIGN = "assign"
    ADD_NOTE = "add_note"
    PROPOSE_RESPONSE = "propose_response"
    APPROVE_RESPONSE = "approve_response"
    RETURN_PROPOSAL = "return_proposal"
    COMMUNICATE_DECISION = "communicate_decision"
    CONCLUDE_REVIEW = "conclude_review"
    CLOSE = "close"
    REOPEN = "reopen"
    # the complainant's own
    ADD_MESSAGE = "add_message"
    ACCEPT_DECISION = "accept_decision"
    REJECT_DECISION = "reject_decision"


_CASEWORK = frozenset({Role.HANDLER, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})
_SENIOR = frozenset({Role.SUPERVISOR, Role.MANAGER})

# The role table: which staff roles may take each command. Auditors take none (read-only). A handler may assign a
# case only to themselves (services.staff says so where it assigns).
ROLES: dict[Command, frozenset[Role]] = {
    Command.ASSESS: _CASEWORK,
    Command.START_INVESTIGATION: _CASEWORK,
    Command.REQUEST_INFORMATION: _CASEWORK,
    Command.LINK: _CASEWORK,
    Command.ASSIGN: _CASEWORK,
    Command.ADD_NOTE: _CASEWORK,
    Command.PROPOSE_RESPONSE: _CASEWORK,
    Command.APPROVE_RESPONSE: _SENIOR,
    Command.RETURN_PROPOSAL: _SENIOR,
    Command.COMMUNICATE_DECISION: _CASEWORK,
    Command.CONCLUDE_REVIEW: _SENIOR,
    Command.CLOSE: _CASEWORK,
    Command.REOPEN: frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ADMIN}),
}
COMPLAINANT_COMMANDS = frozenset({Command.ADD_MESSAGE, Command.ACCEPT_DECISION, Command.REJECT_DECISION})

# The transition each command makes, when it makes one (a rejection of a final decision closes instead).
TRANSITION_OF: dict[Command, Action] = {
    Command.ASSESS: Action.ASSESS,
    Command.START_INVESTIGATION: Action.START_INVESTIGATION,
    Command.REQUEST_INFORMATION: Action.REQUEST_INFORMATION,
    Command.PROPOSE_RESPONSE: Action.PROPOSE_RESPONSE,
    Command.APPROVE_RESPONSE: Action.APPROVE_RESPONSE,
    Command.RETURN_PROPOSAL: Action.RETURN_PROPOSAL,
    Command.COMMUNICATE_DECISION: Action.COMMUNICATE_DECISION,
    Command.CONCLUDE_REVIEW: Action.CONCLUDE_REVIEW,
    Command.CLOSE: Action.CLOSE,
    Command.REOPEN: Action.REOPEN,
}
# Commands that make no transition of their own, and the statuses they are taken in (None: any).
_STATUSES_OF: dict[Command, frozenset[Status] | None] = {
    Command.LINK: OPEN_STATUSES,
    Command.ASSIGN: OPEN_STATUSES,
    Command.ADD_NOTE: None,
    Command.ADD_MESSAGE: OPEN_STATUSES,
    Command.ACCEPT_DECISION: frozenset({Status.DECISION_COMMUNICATED}),
    Command.REJECT_DECISION: frozenset({Status.DECISION_COMMUNICATED}),
}


# Who may give a case to someone else; a handler may take one only for themselves.
ASSIGNERS = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})


def assignment_refusal(actor: Actor, owner: str) -> Forbidden | None:
    roles = set(actor.roles) if actor.kind == "staff" else set()
    if not roles & ROLES[Command.ASSIGN]:
        return Forbidden("Auditors have read-only access; assigning a case needs the supervisor, manager or admin "
                         "role (or the handler role, to take a case for yourself).")
    if not roles & ASSIGNERS and owner != actor.id:
        return Forbidden("Only a supervisor, manager or admin can assign a case to someone else; "
                         "a handler can assign a case only to themselves.")
    return None


def role_allows(command: Command, actor: Actor) -> bool:
    if actor.kind == "complainant":
        return command in COMPLAINANT_COMMANDS
    if actor.kind == "staff":
        return bool(ROLES.get(command, frozenset()) & set(actor.roles))
    return False  # the system's steps are the state machine's and the sweep's, not in this table


def state_allows(command: Command, case: Case) -> bool:
    if command in TRANSITION_OF:
        return target_of(TRANSITION_OF[command], case.status) is not None
    statuses = _STATUSES_OF[command]
    return statuses is None or case.status in statuses


def involved(case: Case) -> set[str]:
    """Staff who took part: every owner the case had and everyone who took one of its steps."""
    return set(case.participants) | ({case.owner} if case.owner else set())


def rule_refusal(action: Action, case: Case, actor: Actor, at: datetime) -> DomainError | None:
    """What the rules about persons and time say against taking ``action`` now (the table already allows it)."""
    if action is Action.APPROVE_RESPONSE:
        if actor.kind != "staff" or not _SENIOR & set(actor.roles):
            return Forbidden("Approving a response needs the supervisor or manager role.")
        if case.proposal and actor.id == case.proposal.proposed_by:
            return FourEyesRequired(
                "You proposed this response, so someone else must approve it: a supervisor or manager who did "
                "not propose it (four eyes).")
    if action is Action.CONCLUDE_REVIEW:
        if actor.kind != "staff" or not _SENIOR & set(actor.roles):
            return Forbidden("Concluding an internal review needs the supervisor or manager role.")
        if actor.id in involved(case):
            return NotUninvolved(
                "You took part in this complaint (as owner, or in one of its steps), so you cannot conclude its "
                "internal review: it needs a supervisor or manager who took no part in it.")
    if action is Action.COMMUNICATE_DECISION and case.status is Status.RESPONSE_PROPOSED and (
            case.proposal is None or case.proposal.needs_approval):
        why = "; ".join(case.proposal.approval_reasons) if case.proposal else "no response is proposed"
        return ApprovalRequired(case.reference, action, case.status,
                                why=f"The proposed response needs approval by a supervisor or manager first ({why}).")
    if action is Action.REOPEN and case.closure and at > case.closure.reopen_until:
        closure = case.closure
        days = (closure.reopen_until - closure.closed_at).days
        return ReopenWindowClosed(
            case.reference, action, case.status,
            why=f"It was closed on {closure.closed_at:%d %B %Y}, and the {days} days in which it could be reopened "
                f"ended on {closure.reopen_until:%d %B %Y}. File a new complaint instead, quoting {case.reference}.")
    return None


def refusal(command: Command, case: Case, actor: Actor, at: datetime) -> DomainError | None:
    """Why ``actor`` may not take ``command`` on ``case`` at ``at``, or None when they may."""
    if not role_allows(command, actor):
        return Forbidden(_role_message(command, actor))
    if not state_allows(command, case):
        return ActionNotAllowed(case.reference, command, case.status)
    action = TRANSITION_OF.get(command)
    return rule_refusal(action, case, actor, at) if action else None


def allowed_actions_for(case: Case, actor: Actor, at: datetime) -> list[Command]:
    """The commands ``actor`` may take on ``case`` now: state, role and the rules about persons all allow them."""
    return [command for command in Command if refusal(command, case, actor, at) is None]


def authorise(command: Command, case: Case, actor: Actor, at: datetime) -> None:
    """Raise the refusal, if any; a wrong step names the actions the actor may take instead."""
    if error := refusal(command, case, actor, at):
        raise with_allowed(error, case, command, actor, at)


def with_allowed(error: DomainError, case: Case, action: Action | Command, actor: Actor, at: datetime) -> DomainError:
    """A wrong step names the actions ``actor`` may take instead."""
    if not isinstance(error, ActionNotAllowed):
        return error
    return type(error)(case.reference, action, case.status, allowed_actions_for(case, actor, at), why=error.why)


def _role_message(command: Command, actor: Actor) -> str:
    what = command.value.replace("_", " ")
    if actor.kind == "complainant":
        return f"Only staff can {what}."
    roles = ROLES.get(command)
    if not roles:
        return f"Only the complainant can {what}."
    prefix = "Auditors have read-only access. " if set(actor.roles) == {Role.AUDITOR} else ""
    return f"{prefix}Only staff with the {_names(roles)} role can {what}."


def _names(roles: frozenset[Role]) -> str:
    names = [r.value for r in Role if r in roles]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
