"""The lifecycle callback rules (amends.services.orchestration) against fakes that hold state as the adapters do: a
token item with a generation, a timeline, and Step Functions tasks that end once sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from amends.domain.events import DomainEvent
from amends.domain.model import Actor
from amends.services import orchestration
from amends.services.orchestration import StatusChange, Superseded, Waiting

REF = "CMP-2026-7K3F9Q"
AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


class Tokens:
    """The EXECUTION item: one token per case, a newer generation never replaced by an older one."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def keep(self, reference: str, waiting: Waiting) -> Waiting | None:
        old = self.items.get(reference)
        if old is not None and old["generation"] > waiting.generation:
            raise Superseded(reference)
        self.items[reference] = {"generation": waiting.generation, "waiting": waiting}
        return old.get("waiting") if old else None

    def get(self, reference: str) -> Waiting | None:
        return self.items.get(reference, {}).get("waiting")

    def forget(self, reference: str, token: str) -> None:
        item = self.items.get(reference, {})
        if item.get("waiting") and item["waiting"].token == token:
            del item["waiting"]


@dataclass
class Timeline:
    """Status changes by version, as the case's timeline records them (other entries have no status)."""

    changes: dict[int, str] = field(default_factory=dict)
    reads: int = 0

    def next_status_change(self, reference: str, after_version: int) -> StatusChange | None:
        self.reads += 1
        later = sorted(v for v in self.changes if v > after_version)
        return StatusChange(later[0], self.changes[later[0]]) if later else None


@dataclass
class StepFunctions:
    """Tasks wait until their token is sent once; executions are unique by name."""

    waiting: set[str] = field(default_factory=set)
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    executions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        if token not in self.waiting:
            return False  # TaskTimedOut / InvalidToken: nothing waits on it
        self.waiting.remove(token)
        self.sent.append((token, output))
        return True

    def start(self, name: str, execution_input: dict[str, Any]) -> bool:
        if name in self.executions:
            return False
        self.executions[name] = execution_input
        return True

    def task(self, token: str, version: int, generation: int = 1) -> Waiting:
        self.waiting.add(token)
        return Waiting(token=token, version=version, generation=generation, execution=f"exec-{generation}")


@pytest.fixture
def world() -> tuple[Tokens, Timeline, StepFunctions]:
    return Tokens(), Timeline({1: "received", 2: "acknowledged"}), StepFunctions()


def ports(world) -> dict[str, Any]:
    tokens, timeline, sfn = world
    return {"tokens": tokens, "history": timeline, "callbacks": sfn}


def event(version: int, type_: str = "CaseStatusChanged", **data: Any) -> DomainEvent:
    detail = {"action": "assess", "before": {}, "after": {"status": "assessed"}, "reason": None, **data}
    if type_ == "CaseOpened":
        detail = {"channel": "web", "priority": "normal", "safety_concern": False, "product_or_service": "x",
                  "preferred_contact_channel": "email", "preferred_language": "en", "received_at_local": "x"}
    return DomainEvent.new(type_, REF, version, Actor.system("test"), AT, detail)


def test_arming_keeps_the_token_when_nothing_has_happened_since(world) -> None:
    tokens, _, sfn = world
    waiting = sfn.task("t1", version=2)
    assert orchestration.arm(REF, waiting, **ports(world)) is None
    assert tokens.get(REF) == waiting and sfn.sent == []


def test_arming_sends_a_change_made_before_the_token_was_kept(world) -> None:
    tokens, timeline, sfn = world
    timeline.changes[3] = "assessed"  # while the execution was busy: its event found no token
    woke = orchestration.arm(REF, sfn.task("t1", version=2), **ports(world))
    assert woke == StatusChange(3, "assessed")
    assert sfn.sent == [("t1", {"status": "assessed", "version": 3})]
    assert tokens.get(REF) is None  # sent, so forgotten


def test_an_event_wakes_the_execution_with_the_next_change_in_order(world) -> None:
    tokens, timeline, sfn = world
    orchestration.arm(REF, sfn.task("t1", version=2), **ports(world))
    timeline.changes |= {3: "assessed", 4: "investigating"}
    # The event of version 4 arrives first: the execution still hears of 3 first, then 4 when it re-arms.
    outcome = orchestration.on_event(event(4), starter=sfn, **ports(world))
    assert outcome.woke == StatusChange(3, "assessed") and outcome.started is None
    assert orchestration.arm(REF, sfn.task("t2", version=3), **ports(world)) == StatusChange(4, "investigating")
    assert [output["version"] for _, output in sfn.sent] == [3, 4]


def test_a_duplicate_or_late_event_changes_nothing(world) -> None:
    tokens, timeline, sfn = world
    orchestration.arm(REF, sfn.task("t1", version=2), **ports(world))
    timeline.changes[3] = "assessed"
    assert orchestration.on_event(event(3), starter=sfn, **ports(world)).woke == StatusChange(3, "assessed")
    orchestration.arm(REF, sfn.task("t2", version=3), **ports(world))
    reads = timeline.reads
    for late in (event(3), event(3), event(2)):
        assert orchestration.on_event(late, starter=sfn, **ports(world)).woke is None
    assert len(sfn.sent) == 1 and tokens.get(REF).token == "t2"
    assert timeline.reads == reads  # told apart by the token's version alone, without reading the timeline


def test_a_token_step_functions_let_go_of_is_forgotten_without_error(world) -> None:
    tokens, timeline, sfn = world
    orchestration.arm(REF, sfn.task("t1", version=2), **ports(world))
    sfn.waiting.clear()  # the task timed out (the execution re-arms weekly) or the execution ended
    timeline.changes[3] = "assessed"
    assert orchestration.on_event(event(3), starter=sfn, **ports(world)).woke == StatusChange(3, "assessed")
    assert sfn.sent == [] and tokens.get(REF) is None


def test_the_opening_starts_one_execution_named_after_it(world) -> None:
    _, _, sfn = world
    assert orchestration.on_event(event(1, "CaseOpened"), starter=sfn, **ports(world)).started == f"{REF}-v1"
    assert orchestration.on_event(event(1, "CaseOpened"), starter=sfn, **ports(world)).started is None
    assert sfn.executions == {f"{REF}-v1": {"case_reference": REF, "version": 1, "status": "received"}}


def test_a_reopening_starts_a_new_generation_and_ends_the_old_one(world) -> None:
    tokens, timeline, sfn = world
    orchestration.arm(REF, sfn.task("old", version=2), **ports(world))
    timeline.changes |= {3: "closed", 4: "investigating"}
    reopened = event(4, action="reopen", after={"status": "investigating"})
    # The reopening's event comes before the closure's: the old execution still hears of the closure first.
    outcome = orchestration.on_event(reopened, starter=sfn, **ports(world))
    assert outcome.started == f"{REF}-v4" and outcome.woke == StatusChange(3, "closed")
    assert sfn.executions[f"{REF}-v4"] == {"case_reference": REF, "version": 4, "status": "investigating"}
    assert orchestration.arm(REF, sfn.task("new", version=4, generation=4), **ports(world)) is None
    assert orchestration.on_event(event(3, action="close", after={"status": "closed"}), starter=sfn,
                                  **ports(world)).woke is None  # the closure's own event, late: nothing left to do
    assert tokens.get(REF).token == "new"


def test_an_older_generation_never_takes_the_case_back(world) -> None:
    tokens, _, sfn = world
    orchestration.arm(REF, sfn.task("new", version=4, generation=4), **ports(world))
    woke = orchestration.arm(REF, sfn.task("old", version=2, generation=1), **ports(world))
    assert woke == StatusChange(2, orchestration.SUPERSEDED)
    assert sfn.sent == [("old", {"status": "superseded", "version": 2})] and tokens.get(REF).token == "new"


def test_a_newer_generation_tells_the_older_waiting_one_it_is_superseded(world) -> None:
    tokens, _, sfn = world
    orchestration.arm(REF, sfn.task("old", version=2, generation=1), **ports(world))
    assert orchestration.arm(REF, sfn.task("new", version=4, generation=4), **ports(world)) is None
    assert sfn.sent == [("old", {"status": "superseded", "version": 2})] and tokens.get(REF).token == "new"
