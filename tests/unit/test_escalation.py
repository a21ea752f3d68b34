"""Escalation rules: which rules a case reaches as its time runs out, once per case and level."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from amends.domain.deadlines import Pause, Unit
from amends.domain.escalation import Action, ActionKind, Rule, due_firings
from amends.domain.lifecycle import Status
from amends.domain.model import Priority
from amends.domain.sla import Pinned, elapsed_share, evaluate, overdue_by
from amends.domain.sla_config import DEFAULT_DIR, SlaConfigInvalid, load_config, parse_config
from hypothesis import given, settings
from hypothesis import strategies as st

CONFIG = load_config()
RECEIVED = datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)  # Monday
PLAN = Pinned.of(CONFIG.policies["fca-disp"], CONFIG.calendars["england-and-wales"], RECEIVED)
UNITS = {m.name: m.unit for m in PLAN.policy.milestones}


def firings(now: datetime, fired: frozenset[str] = frozenset(), steps=None, pauses=(), priority=Priority.NORMAL,
            status=Status.INVESTIGATING) -> list[str]:
    steps = {"acknowledged": RECEIVED + timedelta(hours=1)} if steps is None else steps
    statuses = evaluate(PLAN, RECEIVED, steps, list(pauses), now)
    shares = {s.name: elapsed_share(PLAN, s.name, RECEIVED, list(pauses), now) for s in statuses}
    overdue = {s.name: overdue_by(PLAN, s.due_at, now, UNITS[s.name]) for s in statuses if s.due_at}
    return [f.key for f in due_firings(CONFIG.escalation, statuses, shares, overdue, priority, None, status,
                                       set(fired), now)]


def test_the_final_response_escalates_at_half_time_at_four_fifths_and_when_breached() -> None:
    # Eight weeks from 1 June: due at the end of 27 July.
    assert firings(RECEIVED + timedelta(days=20)) == []
    assert firings(RECEIVED + timedelta(days=29)) == ["final-response#1"]
    assert firings(RECEIVED + timedelta(days=46)) == ["final-response#1", "final-response#2"]
    assert firings(RECEIVED + timedelta(days=60)) == ["final-response#1", "final-response#2", "final-response#3"]


def test_a_rule_fires_once_per_level() -> None:
    now = RECEIVED + timedelta(days=46)
    assert firings(now, fired=frozenset({"final-response#1"})) == ["final-response#2"]
    assert firings(now, fired=frozenset({"final-response#1", "final-response#2"})) == []


def test_an_unacknowledged_case_escalates_to_supervisors_once_the_acknowledgement_is_overdue() -> None:
    # Acknowledgement: 5 business days -> Monday 8 June 17:30.
    assert firings(datetime(2026, 6, 8, 16, 0, tzinfo=UTC), steps={}) == ["acknowledgement-late#1"]
    assert firings(datetime(2026, 6, 9, 9, 0, tzinfo=UTC), steps={}) == ["acknowledgement-late#1",
                                                                        "acknowledgement-late#2"]


def test_nothing_escalates_while_the_clock_is_paused_or_once_the_milestone_is_met() -> None:
    later = RECEIVED + timedelta(days=60)
    # Paused after half the time was used (and no sweep ran since): the warnings wait until the clock runs again.
    assert firings(later, pauses=[Pause(RECEIVED + timedelta(days=30))]) == []
    assert firings(later, pauses=[Pause(RECEIVED + timedelta(days=30), RECEIVED + timedelta(days=31))]) == [
        "final-response#1", "final-response#2", "final-response#3"]
    assert firings(later, steps={"acknowledged": RECEIVED, "decision_communicated": RECEIVED + timedelta(days=3)}) == []


def test_conditions_on_the_case_select_rules() -> None:
    now = RECEIVED + timedelta(days=15)
    assert firings(now, priority=Priority.URGENT) == ["urgent-case-half-time#1"]
    assert firings(now, priority=Priority.HIGH) == []
    rule = Rule(id="r", milestone="final_response", level=1, at_percent=10, status=[Status.AWAITING_COMPLAINANT],
                category=["Billing"], actions=[Action(do=ActionKind.MARK_BREACHED)])
    assert rule.applies(Priority.LOW, "billing", Status.AWAITING_COMPLAINANT)
    assert not rule.applies(Priority.LOW, "billing", Status.INVESTIGATING)
    assert not rule.applies(Priority.LOW, None, Status.AWAITING_COMPLAINANT)


@settings(max_examples=60, deadline=None)
@given(sweeps=st.lists(st.integers(0, 90), min_size=1, max_size=8))
def test_however_often_the_sweep_runs_each_rule_fires_once(sweeps: list[int]) -> None:
    """Sweeps at any times, each recording what fired (as the conditional write does): every key at most once, and
    by the last sweep exactly the ones one sweep at that time would give."""
    fired: list[str] = []
    for day in sorted(sweeps):
        fired += firings(RECEIVED + timedelta(days=day), fired=frozenset(fired))
    assert len(fired) == len(set(fired))
    assert set(fired) == set(firings(RECEIVED + timedelta(days=max(sweeps))))


def test_overdue_is_counted_in_the_milestone_unit() -> None:
    due = datetime(2026, 6, 5, 16, 30, tzinfo=UTC)  # Friday 17:30 BST
    assert overdue_by(PLAN, due, datetime(2026, 6, 8, 9, 0, tzinfo=UTC), Unit.BUSINESS_DAYS) == timedelta(hours=1)
    assert overdue_by(PLAN, due, datetime(2026, 6, 8, 9, 0, tzinfo=UTC), Unit.CALENDAR_DAYS) == timedelta(hours=64.5)
    assert overdue_by(PLAN, due, due - timedelta(hours=1), Unit.CALENDAR_DAYS) == timedelta()


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["rules"][0].update(milestone="ack"), "rules.0.milestone: 'ack' is a milestone of no policy"),
    (lambda d: d["rules"][0].update(overdue_by_hours=1), "give exactly one of at_percent"),
    (lambda d: d["rules"][1]["actions"][0].pop("role"), "notify_role needs 'role'"),
    (lambda d: d["rules"][0]["actions"][0].update(role="manager"), "notify_owner takes no role"),
    (lambda d: d["rules"][1].update(level=1), "an id is used twice at the same level"),
])
def test_a_broken_escalation_file_is_refused_naming_the_field(tmp_path: Path, change, message) -> None:
    folder = shutil.copytree(DEFAULT_DIR, tmp_path / "sla")
    data = json.loads((folder / "escalation.json").read_text())
    change(data)
    (folder / "escalation.json").write_text(json.dumps(data))
    with pytest.raises(SlaConfigInvalid) as refused:
        parse_config(folder)
    assert "escalation.json: " in str(refused.value) and message in str(refused.value)
