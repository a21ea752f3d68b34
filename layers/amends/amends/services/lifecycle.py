"""Steps the case state machine asks the lifecycle function for.

Three kinds, each named in the state machine's ``Payload.step`` (a test checks the definition asks only for these):

* steps that change the case (acknowledge), through the domain's transition table;
* ``await``, the AwaitChange task: keep the execution's task token (``amends.services.orchestration``);
* steps that work something out for the execution and change nothing (whether a proposal needs approval, who may
  review, how the complainant hears of the decision): their answer is in the execution's history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from amends.domain.clock import Clock
from amends.domain.lifecycle import Action
from amends.domain.model import Actor, Case, ContactChannel, Priority, Role
from amends.domain.reference import normalise
from amends.services.common import with_optimistic_retry
from amends.services.ports import CaseRepository

AWAIT = "await"

# Steps that move the case along the transition table: the action, and the reason the timeline shows.
CHANGING_STEPS: dict[str, tuple[Action, str]] = {
    "acknowledge": (Action.ACKNOWLEDGE, "Acknowledgement sent with the reference and the expected time frame"),
}


def take_step(reference: str, step: str, *, execution: str | None, repo: CaseRepository, clock: Clock) -> Case:
    if step not in CHANGING_STEPS:
        raise ValueError(f"unknown lifecycle step {step!r}; steps that change a case: {', '.join(CHANGING_STEPS)}")
    action, reason = CHANGING_STEPS[step]
    actor = Actor.system(execution or "case-lifecycle")

    def attempt() -> Case:
        change = repo.get(normalise(reference)).apply(action, actor, clock.now(), reason)
        repo.record(change)
        return change.case

    return with_optimistic_retry(attempt)


# -- steps that work something out ------------------------------------------------------------------------------

def needs_approval(case: Case) -> bool:
    """Whether the proposed response needs a second pair of eyes before it goes out (four eyes, ISO 10002 7.7): the
    proposal says, as the domain worked it out when it was made (money above the threshold, a serious complaint)."""
    return bool(case.proposal and case.proposal.needs_approval)


def route_approval(case: Case) -> dict[str, Any]:
    reasons = case.proposal.approval_reasons if case.proposal else []
    return {"needs_approval": needs_approval(case), "reasons": reasons}


def choose_reviewers(case: Case) -> dict[str, Any]:
    """An internal review goes to a supervisor or manager who took no part in the case (owner, proposers, approvers,
    deciders: the case's participants)."""
    excluded = sorted({*case.participants, *([case.owner] if case.owner else [])})
    return {"roles": [Role.SUPERVISOR.value, Role.MANAGER.value], "not": excluded}


def tell_complainant(case: Case) -> dict[str, Any]:
    """How the decision reaches the complainant: by email from the notifications function, or by staff on the
    channel the complainant prefers."""
    sub = case.submission
    contact = sub.representative or sub.complainant
    by_email = sub.preferred_contact_channel is ContactChannel.EMAIL and bool(contact.email) and sub.consent.contact
    return {"channel": sub.preferred_contact_channel.value, "by": "email" if by_email else "staff"}


WORKING_STEPS: dict[str, Callable[[Case], dict[str, Any]]] = {
    "route_approval": route_approval,
    "choose_reviewers": choose_reviewers,
    "tell_complainant": tell_complainant,
}

STEPS = frozenset({*CHANGING_STEPS, AWAIT, *WORKING_STEPS})


def work_out(reference: str, step: str, *, repo: CaseRepository) -> dict[str, Any]:
    if step not in WORKING_STEPS:
        raise ValueError(f"unknown lifecycle step {step!r}; known steps: {', '.join(sorted(STEPS))}")
    return WORKING_STEPS[step](repo.get(normalise(reference)))
