"""Case timers: carried by a change, swept when due, each handled once (amends.services.timers, fakes that hold
state as the adapters do)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from amends.domain.clock import FixedClock
from amends.domain.errors import ActionNotAllowed
from amends.domain.lifecycle import Action, Status
from amends.domain.model import Actor, Case, Change
from amends.domain.timers import REPLY_WINDOW, Timer, with_timers
from amends.domain import steps
from amends.services import decision, timers
from amends.settings import Settings
from amends.services.timers import DueTimer
from pydantic import ValidationError

from .cases import COMPLAINANT, POLICY, walk
from .memory import MemoryCaseRepository

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
SETTINGS = Settings(table_name="t", event_bus_name="b", decision_reply_days=28)


class Store:
    """Timer items: set ones are due; a claim holds one until a time; settling takes it out of the due set."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def write(self, change: Change) -> None:  # what the repository does with change.timers
        for timer in change.timers:
            self.items[(change.case.reference, timer.name)] = {"due_at": timer.due_at, "claimed_until": None}

    def due(self, now: datetime, limit: int) -> list[DueTimer]:
        due = [DueTimer(ref, name, item["due_at"]) for (ref, name), item in self.items.items()
               if item["due_at"] is not None and item["due_at"] <= now]
        return sorted(due, key=lambda t: t.due_at)[:limit]

    def claim(self, timer: DueTimer, now: datetime, until: datetime) -> bool:
        item = self.items.get((timer.reference, timer.name))
        if not item or item["due_at"] != timer.due_at or (item["claimed_until"] and item["claimed_until"] >= now):
            return False
        item["claimed_until"] = until
        return True

    def settle(self, timer: DueTimer, at: datetime, outcome: str) -> None:
        item = self.items.get((timer.reference, timer.name))
        if item and item["due_at"] == timer.due_at:
            item.update(due_at=None, claimed_until=None, outcome=outcome)


class Repository(MemoryCaseRepository):
    """The in-memory repository (tests/unit/memory.py): versions checked, races real writes; what lands also writes the
    timers the change carries to the store, as the adapter does in the same transaction."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def record_all(self, changes: Sequence[Change]) -> None:
        super().record_all(changes)
        for change in changes:
            self.store.write(change)


def decided(opened: Change, repo: Repository, clock: FixedClock) -> Case:
    """Take the case to decision_communicated along the main path: the decision sets the reply window (28 days)."""
    repo.record(opened)
    case, changes = walk(Status.DECISION_COMMUNICATED, opened.case, clock.now())
    for change in changes:
        repo.record(change)
    return case


@pytest.fixture
def world(opened):
    store = Store()
    repo = Repository(store)
    clock = FixedClock(T0)
    case = decided(opened, repo, clock)
    return store, repo, clock, case


def sweep(store, repo, clock, **kw):
    return timers.sweep(store=store, handlers=timers.handlers(repo=repo, clock=clock, settings=SETTINGS),
                        clock=clock, **kw)


def test_a_change_carries_the_timers_it_sets_and_clears(opened) -> None:
    due = T0 + timedelta(days=28)
    change = with_timers(opened, Timer.at(REPLY_WINDOW, due))
    assert change.timers == (Timer(name=REPLY_WINDOW, due_at=due),)
    with pytest.raises(ValueError, match="^a change may set or clear each timer once; got reply_window, reply_window$"):
        with_timers(change, Timer.cleared(REPLY_WINDOW))
    refusal = r"Value error, a timer's due time needs a time zone \(the clock gives UTC\) \[type="
    with pytest.raises(ValidationError, match=refusal):
        Timer.at(REPLY_WINDOW, datetime(2026, 12, 1))
    with pytest.raises(ValidationError):
        Timer.at("Reply Window#1", due)  # the name is part of a storage key


def test_nothing_fires_before_it_is_due(world) -> None:
    store, repo, clock, case = world
    clock.advance(timedelta(days=27, hours=23))
    assert sweep(store, repo, clock).outcomes == []
    assert repo.get(case.reference).status is Status.DECISION_COMMUNICATED


def test_a_due_reply_window_closes_the_case_once_however_often_the_sweep_runs(world) -> None:
    store, repo, clock, case = world
    clock.advance(timedelta(days=29))
    first = sweep(store, repo, clock)
    assert [(t.name, outcome) for t, outcome, _ in first.outcomes] == [(REPLY_WINDOW, "fired")]
    closed = repo.get(case.reference)
    assert closed.status is Status.CLOSED and closed.closure_reason == "no_reply"
    assert closed.version == case.version + 1
    assert sweep(store, repo, clock).outcomes == [] and repo.get(case.reference).version == case.version + 1


def test_a_sweep_that_stops_after_the_handler_wrote_leaves_nothing_due(world) -> None:
    store, repo, clock, case = world
    clock.advance(timedelta(days=29))

    def crash(*args: object) -> None:
        raise TimeoutError("the function timed out before settling the timer")

    store.settle = crash  # type: ignore[method-assign]
    with pytest.raises(TimeoutError):
        sweep(store, repo, clock)
    assert repo.get(case.reference).status is Status.CLOSED
    del store.settle
    clock.advance(timers.CLAIM_FOR + timedelta(seconds=1))
    assert sweep(store, repo, clock).outcomes == []  # the closing change cleared the timer with it


def test_two_sweeps_at_once_act_on_a_timer_once(world) -> None:
    store, repo, clock, case = world
    clock.advance(timedelta(days=29))
    [timer] = store.due(clock.now(), 10)
    assert store.claim(timer, clock.now(), clock.now() + timedelta(minutes=5))  # another run holds it
    assert [o for _, o, _ in sweep(store, repo, clock).outcomes] == ["taken"]
    assert repo.get(case.reference).status is Status.DECISION_COMMUNICATED


def test_a_timer_the_case_has_moved_past_is_settled_without_acting(world) -> None:
    store, repo, clock, case = world
    asked = steps.reject_decision(case, "Not fair", COMPLAINANT, clock.now(), POLICY)
    repo.record(asked)
    assert asked.timers == (Timer.cleared(REPLY_WINDOW),)  # asking for a review clears the reply window with it
    store.items[(case.reference, REPLY_WINDOW)] = {"due_at": case.reply_due_at, "claimed_until": None}  # left over
    clock.advance(timedelta(days=29))
    [(_, outcome, _)] = sweep(store, repo, clock).outcomes
    assert outcome == "stale"
    assert repo.get(case.reference).status is Status.INTERNAL_REVIEW
    assert sweep(store, repo, clock).outcomes == []


def test_a_failed_handler_keeps_its_timer_for_a_later_run_and_holds_up_no_other(world, opened) -> None:
    store, repo, clock, case = world
    store.items[("CMP-2026-OTHER1", "unknown_timer")] = {"due_at": T0, "claimed_until": None}
    repo.races = 3  # the case keeps changing under the handler: someone writes it before each of its three tries
    clock.advance(timedelta(days=29))
    outcomes = {t.name: (o, d) for t, o, d in sweep(store, repo, clock).outcomes}
    assert outcomes["unknown_timer"] == ("failed", "no handler for timer unknown_timer")
    assert outcomes[REPLY_WINDOW][0] == "failed"
    assert sweep(store, repo, clock).outcomes[0][1] == "taken"  # still claimed by the run that failed
    clock.advance(timers.CLAIM_FOR + timedelta(seconds=1))
    assert {t.name: o for t, o, _ in sweep(store, repo, clock).outcomes}[REPLY_WINDOW] == "fired"
    assert repo.get(case.reference).status is Status.CLOSED


def test_a_handler_raced_by_other_writes_decides_again_on_the_latest_case(world) -> None:
    store, repo, clock, case = world
    repo.races = 2  # a colleague's note lands before each of the handler's first two writes
    clock.advance(timedelta(days=29))
    assert [(t.name, o) for t, o, _ in sweep(store, repo, clock).outcomes] == [(REPLY_WINDOW, "fired")]
    closed = repo.get(case.reference)
    assert closed.status is Status.CLOSED and closed.version == case.version + 3
    assert [e.action for e in repo.timelines[case.reference]][-3:] == ["add_note", "add_note", "close"]


def test_a_handler_that_breaks_fails_alone(world) -> None:
    store, repo, clock, case = world
    store.items[("CMP-2026-OTHER1", "broken")] = {"due_at": T0, "claimed_until": None}  # due first

    def broken(timer: DueTimer) -> None:
        raise RuntimeError("the table is unavailable")

    clock.advance(timedelta(days=29))
    handlers = {**timers.handlers(repo=repo, clock=clock, settings=SETTINGS), "broken": broken}
    result = timers.sweep(store=store, handlers=handlers, clock=clock)
    assert [(t.name, o, d) for t, o, d in result.outcomes] == [
        ("broken", "failed", "RuntimeError: the table is unavailable"), (REPLY_WINDOW, "fired", "")]
    assert result.count("failed") == 1 and repo.get(case.reference).status is Status.CLOSED


def test_closing_for_want_of_a_reply_leaves_a_case_not_waiting_for_one(opened) -> None:
    store = Store()
    repo = Repository(store)
    repo.record(opened)
    assert decision.close_unanswered(opened.case.reference, T0, repo=repo, settings=SETTINGS) is None
    assert repo.get(opened.case.reference).status is Status.RECEIVED


def test_a_timer_another_run_holds_does_not_stop_the_sweep_acting_on_the_next(world) -> None:
    store, repo, clock, case = world
    clock.advance(timedelta(days=29))
    held = ("CMP-2026-OTHER1", "held_timer")
    store.items[held] = {"due_at": T0, "claimed_until": clock.now() + timedelta(minutes=5)}  # due first, held
    result = sweep(store, repo, clock)
    assert [(t.name, o) for t, o, _ in result.outcomes] == [("held_timer", "taken"), (REPLY_WINDOW, "fired")]
    assert repo.get(case.reference).status is Status.CLOSED
