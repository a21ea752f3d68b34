"""A case's SLA through its handling: pinned at receipt, paused while awaiting the complainant, met by its steps,
and escalated by the sweep through the ``sla_check`` timer, each rule once per case and level (fakes that hold
versions and timer items as the adapters do)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from amends.domain import steps
from amends.domain.case_sla import CaseSla
from amends.domain.clock import FixedClock
from amends.domain.errors import CaseNotFound, ConcurrentUpdate
from amends.domain.lifecycle import Action, Status
from amends.domain.model import Case, Change, Channel, EntryKind, Priority, TimelineEntry, open_case
from amends.domain.sla import Pinned, State
from amends.domain.sla_config import load_config
from amends.domain.timers import SLA_CHECK
from amends.services import timers
from amends.services.timers import DueTimer
from amends.settings import Settings

from .cases import COMPLAINANT, HANDLER, RULES, SYSTEM, findings
from .conftest import make_submission

CONFIG = load_config()
RECEIVED = datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)  # a Monday
SETTINGS = Settings(table_name="t", event_bus_name="b")


def opened(policy: str = "fca-disp", reference: str = "CMP-2026-7K3F9Q") -> Change:
    p = CONFIG.policies[policy]
    sla = CaseSla.open(Pinned.of(p, CONFIG.calendars[p.calendar], RECEIVED), CONFIG.escalation.rules)
    return open_case(reference=reference, access_token_hash="x" * 64, submission=make_submission(),
                     channel=Channel.WEB, actor=COMPLAINANT, received_at=RECEIVED, received_at_local=RECEIVED, sla=sla)


class World:
    """Cases by version with their timelines, and timer items, as the table holds them."""

    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}
        self.timelines: dict[str, list[TimelineEntry]] = {}
        self.events: list[tuple[str, dict]] = []
        self.timers: dict[tuple[str, str], dict] = {}
        self.clock = FixedClock(RECEIVED)

    # the repository
    def get(self, reference: str) -> Case:
        if reference not in self.cases:
            raise CaseNotFound(reference)
        return self.cases[reference]

    def record(self, change: Change) -> None:
        stored = self.cases.get(change.case.reference)
        if (stored.version if stored else None) != change.expected_version:
            raise ConcurrentUpdate(change.case.reference)
        self.cases[change.case.reference] = change.case
        self.timelines.setdefault(change.case.reference, []).append(change.entry)
        self.events += [(e.type, e.data) for e in change.events]
        for timer in change.timers:
            self.timers[(change.case.reference, timer.name)] = {"due_at": timer.due_at, "claimed_until": None}

    # the timer store
    def due(self, now: datetime, limit: int) -> list[DueTimer]:
        due = [DueTimer(r, n, i["due_at"]) for (r, n), i in self.timers.items() if i["due_at"] and i["due_at"] <= now]
        return sorted(due, key=lambda t: t.due_at)[:limit]

    def claim(self, timer: DueTimer, now: datetime, until: datetime) -> bool:
        item = self.timers.get((timer.reference, timer.name))
        if not item or item["due_at"] != timer.due_at or (item["claimed_until"] and item["claimed_until"] >= now):
            return False
        item["claimed_until"] = until
        return True

    def settle(self, timer: DueTimer, at: datetime, outcome: str) -> None:
        item = self.timers.get((timer.reference, timer.name))
        if item and item["due_at"] == timer.due_at:
            item.update(due_at=None, claimed_until=None)

    def sweep_at(self, at: datetime) -> timers.SweepResult:
        self.clock.at = at
        return timers.sweep(store=self, clock=self.clock,
                            handlers=timers.handlers(repo=self, clock=self.clock, settings=SETTINGS))

    def escalations(self, reference: str) -> list[str]:
        return [e.reason.split(":")[0] for e in self.timelines[reference] if e.kind is EntryKind.ESCALATION]


def acknowledged(world: World, at: datetime) -> Case:
    world.record(opened())
    world.record(world.get("CMP-2026-7K3F9Q").apply(Action.ACKNOWLEDGE, SYSTEM, at))
    return world.get("CMP-2026-7K3F9Q")


def test_receipt_pins_the_policy_and_sets_the_first_check() -> None:
    change = opened()
    assert change.case.sla.pinned.policy.id == "fca-disp"
    assert change.events[0].data["sla_policy"] == "fca-disp v1"
    # The first rule within reach: 80 % of the acknowledgement's time (the day of receipt and 5 business days after
    # it, 51 h): 40.8 h, i.e. Monday to Thursday and 6 h 48 min on Friday 5 June: 15:48 BST, and a second's margin.
    assert change.timers[0].name == SLA_CHECK
    assert change.timers[0].due_at == datetime(2026, 6, 5, 14, 48, 1, tzinfo=UTC)


def test_the_steps_meet_milestones_and_awaiting_the_complainant_stops_the_clock() -> None:
    world = World()
    case = acknowledged(world, RECEIVED + timedelta(hours=2))
    assert case.sla.steps == {"acknowledged": RECEIVED + timedelta(hours=2)}
    final_before = case.sla.final_response_due(RECEIVED, RECEIVED)
    assert final_before == datetime(2026, 7, 27, 23, 0, tzinfo=UTC)  # end of 27 July, BST
    for step in (lambda c, at: steps.assess(c, findings(), HANDLER, at, RULES),
                 lambda c, at: steps.start_investigation(c, HANDLER, at, owner=HANDLER.id),
                 lambda c, at: steps.request_information(c, "Which account?", HANDLER, at)):
        world.record(step(world.get(case.reference), RECEIVED + timedelta(days=1)))
    paused = world.get(case.reference)
    assert paused.sla.paused and paused.next_sla_check() is None
    assert world.timers[(case.reference, SLA_CHECK)]["due_at"] is None  # cleared with the change that paused it
    world.record(paused.add_message("The current account.", COMPLAINANT, RECEIVED + timedelta(days=11)))
    resumed = world.get(case.reference)
    assert resumed.status is Status.INVESTIGATING and not resumed.sla.paused
    assert resumed.sla.final_response_due(RECEIVED, resumed.updated_at) == final_before + timedelta(days=10)
    assert world.timers[(case.reference, SLA_CHECK)]["due_at"] is not None  # set again when the clock runs


def test_the_sweep_escalates_each_rule_once_and_acts_on_the_case() -> None:
    world = World()
    case = acknowledged(world, RECEIVED + timedelta(hours=1))
    world.record(steps.assess(world.get(case.reference), findings(), HANDLER, RECEIVED, RULES))
    world.record(steps.start_investigation(world.get(case.reference), HANDLER, RECEIVED, owner=HANDLER.id))
    ref = case.reference
    assert world.sweep_at(RECEIVED + timedelta(days=20)).count("fired") == 0  # nothing due yet
    assert world.sweep_at(RECEIVED + timedelta(days=29)).count("fired") == 1
    assert world.escalations(ref) == ["Escalation final-response level 1"]
    assert world.sweep_at(RECEIVED + timedelta(days=29, hours=1)).outcomes == []  # the timer moved on
    world.sweep_at(RECEIVED + timedelta(days=46))
    assert world.get(ref).priority is Priority.HIGH  # level 2 raises it
    world.sweep_at(RECEIVED + timedelta(days=60))
    world.sweep_at(RECEIVED + timedelta(days=61))
    assert world.escalations(ref) == ["Escalation final-response level 1", "Escalation final-response level 2",
                                      "Escalation final-response level 3"]
    late = world.get(ref)
    assert late.owner is None and late.sla.breached == ("final_response",)  # back in the queue, marked breached
    assert late.next_sla_check() is None and world.timers[(ref, SLA_CHECK)]["due_at"] is None
    escalated = [d for t, d in world.events if t == "SlaEscalated"]
    assert [(d["rule"], d["level"]) for d in escalated] == [("final-response", 1), ("final-response", 2),
                                                            ("final-response", 3)]
    assert escalated[0]["owner"] == HANDLER.id
    assert [t for t, _ in world.events].count("SlaBreached") == 1
    assert all(not e.complainant_visible for e in world.timelines[ref] if e.kind is EntryKind.ESCALATION)
    statuses = {s.name: s for s in late.sla.statuses(RECEIVED, RECEIVED + timedelta(days=61))}
    assert statuses["final_response"].state is State.BREACHED


def test_two_sweeps_racing_on_one_case_fire_a_rule_once() -> None:
    """The second sweep decided on the version before the first one's firing: its write is refused, it re-reads
    and finds the rule fired."""
    world = World()
    case = acknowledged(world, RECEIVED + timedelta(hours=1))
    at = RECEIVED + timedelta(days=29)
    first, second = case.escalate(at), case.escalate(at)
    world.record(first)
    try:
        world.record(second)
    except ConcurrentUpdate:
        again = world.get(case.reference).escalate(at)
        assert again is None
    else:
        raise AssertionError("a firing decided on a stale case was written")
    assert world.escalations(case.reference) == ["Escalation final-response level 1"]


def test_a_closed_case_has_no_check_and_nothing_escalates() -> None:
    world = World()
    case = acknowledged(world, RECEIVED)
    closed = steps.close(world.get(case.reference), _reason("withdrawn"), HANDLER, RECEIVED + timedelta(days=2),
                         _policy())
    world.record(closed)
    assert closed.case.next_sla_check() is None and closed.case.escalate(RECEIVED + timedelta(days=90)) is None
    assert closed.case.sla.steps["closed"] == RECEIVED + timedelta(days=2)
    assert world.timers[(case.reference, SLA_CHECK)]["due_at"] is None


def _reason(value: str):
    from amends.domain.handling import ClosureReason

    return ClosureReason(value)


def _policy():
    from .cases import POLICY

    return POLICY
