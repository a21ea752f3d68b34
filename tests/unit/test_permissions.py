"""The role table and the rules about persons: what ``allowed_actions_for`` lists is exactly what the commands
accept, for anyone, at any step of any case."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from amends.domain import steps
from amends.domain.errors import DomainError, Forbidden, FourEyesRequired, ReopenWindowClosed
from amends.domain.handling import ClosureReason, LinkRelation
from amends.domain.lifecycle import Status
from amends.domain.model import Actor, Case, Change, Role
from amends.domain.permissions import COMPLAINANT_COMMANDS, ROLES, Command, allowed_actions_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .cases import COMPLAINANT, HANDLER, POLICY, RULES, SUPERVISOR, T0, content, findings, new_case, walk

ROLE_TABLE = {  # the README's table, restated: a change to the code's table must be a decision, not an accident
    "assess": "handler supervisor manager admin", "start_investigation": "handler supervisor manager admin",
    "request_information": "handler supervisor manager admin", "link": "handler supervisor manager admin",
    "assign": "handler supervisor manager admin", "add_note": "handler supervisor manager admin",
    "propose_response": "handler supervisor manager admin", "approve_response": "supervisor manager",
    "return_proposal": "supervisor manager", "communicate_decision": "handler supervisor manager admin",
    "conclude_review": "supervisor manager", "close": "handler supervisor manager admin",
    "reopen": "supervisor manager admin",
}


def test_the_role_table_and_auditors_read_only() -> None:
    assert {c.value: " ".join(r.value for r in Role if r in roles) for c, roles in ROLES.items()} == ROLE_TABLE
    assert not any(Role.AUDITOR in roles for roles in ROLES.values())
    assert COMPLAINANT_COMMANDS == {Command.ADD_MESSAGE, Command.ACCEPT_DECISION, Command.REJECT_DECISION}
    assert set(ROLES) | COMPLAINANT_COMMANDS == set(Command)


# -- any case, anyone: the list and the commands agree -------------------------------------------------------------

_others = iter(range(10**9))


def another_case() -> Case:
    return new_case(f"CMP-2026-{next(_others):06d}")


def run(command: Command, case: Case, actor: Actor, at: datetime) -> Change | tuple[Change, Change]:
    """Take ``command`` with a valid payload (an owner given where one may be: ourselves)."""
    return {
        Command.ASSESS: lambda: steps.assess(case, findings(), actor, at, RULES),
        Command.START_INVESTIGATION: lambda: steps.start_investigation(case, actor, at, owner=actor.id),
        Command.REQUEST_INFORMATION: lambda: steps.request_information(case, "Which account?", actor, at),
        Command.LINK: lambda: steps.link(case, another_case(), LinkRelation.RELATED, actor, at, POLICY),
        Command.ASSIGN: lambda: case.assign(actor.id, actor, at),
        Command.ADD_NOTE: lambda: case.add_note("a note", actor, at),
        Command.PROPOSE_RESPONSE: lambda: steps.propose_response(case, content(money="900"), actor, at, POLICY),
        Command.APPROVE_RESPONSE: lambda: steps.approve_response(case, actor, at),
        Command.RETURN_PROPOSAL: lambda: steps.return_proposal(case, "Check it", actor, at),
        Command.COMMUNICATE_DECISION: lambda: steps.communicate_decision(case, actor, at, POLICY),
        Command.CONCLUDE_REVIEW: lambda: steps.conclude_review(case, content(), actor, at, POLICY),
        Command.CLOSE: lambda: steps.close(case, ClosureReason.RESOLVED, actor, at, POLICY),
        # No owner named: what the list offers must go through as the bare request too (the reopener is then owner).
        Command.REOPEN: lambda: steps.reopen(case, "New evidence", actor, at),
        Command.ADD_MESSAGE: lambda: case.add_message("more", actor, at),
        Command.ACCEPT_DECISION: lambda: steps.accept_decision(case, actor, at, POLICY),
        Command.REJECT_DECISION: lambda: steps.reject_decision(case, "Not enough", actor, at, POLICY),
    }[command]()


staff = st.builds(lambda who, roles: Actor(kind="staff", id=who, roles=tuple(roles)),
                  st.sampled_from(["handler-1", "supervisor-1", "supervisor-2", "manager-1", "x-1"]),
                  st.lists(st.sampled_from(list(Role)), max_size=2, unique=True))
actors = st.one_of(staff, st.just(COMPLAINANT))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(list(Command)), actors, st.integers(0, 40)), min_size=1, max_size=30),
       actors)
def test_what_allowed_actions_lists_is_exactly_what_succeeds(moves, probe) -> None:
    case, at = new_case(), T0
    for command, actor, days in moves:
        at += timedelta(days=days)
        allowed = allowed_actions_for(case, actor, at)
        try:
            result = run(command, case, actor, at)
        except DomainError:
            assert command not in allowed, (command, actor, case.status)
            continue
        assert command in allowed, (command, actor, case.status)
        case = result[0].case if isinstance(result, tuple) else result.case
        case.check_invariants("any", was=case.status)
    # And for someone else, at the end: each listed command goes through, each other one is refused.
    allowed = allowed_actions_for(case, probe, at)
    for command in Command:
        try:
            run(command, case, probe, at)
            assert command in allowed, (command, probe, case.status)
        except DomainError:
            assert command not in allowed, (command, probe, case.status)


# -- four eyes over anyone ----------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(proposer=staff, approver=staff)
def test_four_eyes_approval_needs_a_senior_role_and_another_person(proposer: Actor, approver: Actor) -> None:
    case = walk(Status.INVESTIGATING)[0]
    try:
        proposed = steps.propose_response(case, content(money="900"), proposer, T0, POLICY).case
    except Forbidden:
        assert not set(proposer.roles) & {Role.HANDLER, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN}
        return
    senior = bool(set(approver.roles) & {Role.SUPERVISOR, Role.MANAGER})
    try:
        approved = steps.approve_response(proposed, approver, T0).case
    except FourEyesRequired:
        assert senior and approver.id == proposer.id
        return
    except Forbidden:
        assert not senior
        return
    assert senior and approver.id != proposer.id and approved.proposal.approved_by == approver.id


# -- the reopen window, to the second -----------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(window_days=st.integers(1, 400), offset=st.integers(-3 * 86_400, 3 * 86_400))
def test_reopening_is_possible_until_the_window_ends_and_not_a_second_later(window_days: int, offset: int) -> None:
    policy = POLICY.model_copy(update={"reopen_window": timedelta(days=window_days)})
    closed = steps.close(walk(Status.INVESTIGATING)[0], ClosureReason.RESOLVED, HANDLER, T0, policy).case
    at = T0 + timedelta(days=window_days, seconds=offset)
    if offset <= 0:
        assert steps.reopen(closed, "Back", SUPERVISOR, at).case.status is Status.INVESTIGATING
        assert Command.REOPEN in allowed_actions_for(closed, SUPERVISOR, at)
    else:
        with pytest.raises(ReopenWindowClosed, match=f"{window_days} days"):
            steps.reopen(closed, "Back", SUPERVISOR, at)
        assert Command.REOPEN not in allowed_actions_for(closed, SUPERVISOR, at)
