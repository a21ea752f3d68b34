"""Acting on case timers when they fall due: a scheduled sweep, one handler per timer name.

Each run asks the store for the timers due by now (an index query per shard, never a scan), claims each one (so two
sweeps never both act on it) and calls the handler registered for its name. A handler does its work as a case
change that also clears the timer, in one transaction, so once its work is written the timer is gone: a second run,
a redelivered schedule or a sweep after a crash finds nothing left to do. A handler that finds the case has moved on
(a domain error: the complainant answered after all) settles the timer without doing anything; one that fails keeps
it, claimed for a few minutes, and the next run tries again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from amends.domain.clock import Clock
from amends.domain.errors import ConcurrentUpdate, DomainError
from amends.domain.timers import REPLY_WINDOW, SLA_CHECK
from amends.services import decision, sla
from amends.services.ports import CaseRepository
from amends.settings import Settings

# A claim outlives a run (the sweep function's timeout is a minute): a timer whose handler crashed waits this long.
CLAIM_FOR = timedelta(minutes=5)


@dataclass(frozen=True)
class DueTimer:
    reference: str
    name: str
    due_at: datetime


class TimerStore(Protocol):
    def due(self, now: datetime, limit: int) -> list[DueTimer]:
        """Set timers due at or before ``now``, earliest first, at most ``limit``."""
        ...

    def claim(self, timer: DueTimer, now: datetime, until: datetime) -> bool:
        """Take ``timer`` until ``until``, unless it was moved, cleared or fired, or another run holds it."""
        ...

    def settle(self, timer: DueTimer, at: datetime, outcome: str) -> None:
        """Take ``timer`` out of the due index (if it is still set for ``timer.due_at``), recording the outcome."""
        ...


TimerHandler = Callable[[DueTimer], object]  # returns None when it found nothing to do
Outcome = Literal["fired", "stale", "failed", "taken"]


@dataclass(frozen=True)
class SweepResult:
    outcomes: list[tuple[DueTimer, Outcome, str]]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for _, o, _ in self.outcomes if o == outcome)


def sweep(*, store: TimerStore, handlers: Mapping[str, TimerHandler], clock: Clock, limit: int = 100,
          claim_for: timedelta = CLAIM_FOR) -> SweepResult:
    now = clock.now()
    outcomes: list[tuple[DueTimer, Outcome, str]] = []
    for timer in store.due(now, limit):
        if not store.claim(timer, now, now + claim_for):
            outcomes.append((timer, "taken", "moved, cleared or held by another run"))
            continue
        handler = handlers.get(timer.name)
        if handler is None:
            outcomes.append((timer, "failed", f"no handler for timer {timer.name}"))
            continue
        try:
            acted = handler(timer)
        except ConcurrentUpdate as error:  # the case kept changing: try again on the next run
            outcomes.append((timer, "failed", str(error)))
            continue
        except DomainError as error:  # the case has moved on: the timer has nothing left to do
            store.settle(timer, now, "stale")
            outcomes.append((timer, "stale", str(error)))
            continue
        except Exception as error:  # noqa: BLE001 - one timer's failure must not hold up the others; it is reported
            outcomes.append((timer, "failed", f"{type(error).__name__}: {error}"))
            continue
        if acted is None:  # the handler found nothing left to do (the case moved on, or the date moved)
            store.settle(timer, now, "stale")
            outcomes.append((timer, "stale", "the case no longer waits for this timer"))
            continue
        store.settle(timer, now, "fired")
        outcomes.append((timer, "fired", ""))
    return SweepResult(outcomes)


# -- handlers -----------------------------------------------------------------------------------------------------

def handlers(*, repo: CaseRepository, clock: Clock, settings: Settings) -> dict[str, TimerHandler]:
    """Which service acts on each timer when it falls due. A timer set without a handler here fails every sweep
    (and raises the sweep's FailedRecords alarm) until one is added."""
    return {
        REPLY_WINDOW: lambda timer: decision.close_unanswered(timer.reference, clock.now(), repo=repo,
                                                              settings=settings),
        SLA_CHECK: lambda timer: sla.escalate(timer.reference, repo=repo, clock=clock),
    }
