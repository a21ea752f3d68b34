"""Steps the case state machine asks for. Each goes through the domain's transition table."""

from __future__ import annotations

from amends.domain.clock import Clock
from amends.domain.lifecycle import Action
from amends.domain.model import Actor, Case
from amends.domain.reference import normalise
from amends.services.common import with_optimistic_retry
from amends.services.ports import CaseRepository

# What the state machine may ask this function to do. Anything else is a bug in the definition.
STEPS: dict[str, tuple[Action, str]] = {
    "acknowledge": (Action.ACKNOWLEDGE, "Acknowledgement sent with the reference and the expected time frame"),
}


def take_step(reference: str, step: str, *, execution: str | None, repo: CaseRepository, clock: Clock) -> Case:
    if step not in STEPS:
        raise ValueError(f"unknown lifecycle step {step!r}; known steps: {', '.join(STEPS)}")
    action, reason = STEPS[step]
    actor = Actor.system(execution or "case-lifecycle")

    def attempt() -> Case:
        change = repo.get(normalise(reference)).apply(action, actor, clock.now(), reason)
        repo.record(change)
        return change.case

    return with_optimistic_retry(attempt)
