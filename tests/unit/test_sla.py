"""SLA policies: the shipped presets give the regulators' dates, milestones say why they stand where they stand, a
pinned case keeps its promises when the files change, and a broken file is refused with the file and field named."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from amends.domain.deadlines import Pause
from amends.domain.sla import Pinned, State, elapsed_share, evaluate, next_due
from amends.domain.sla_config import DEFAULT_DIR, SlaConfigInvalid, load_config, parse_config
from hypothesis import given, settings
from hypothesis import strategies as st

CONFIG = load_config()


def at(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def uk(*args: int) -> datetime:
    return at("Europe/London", *args)


def pinned(policy: str, received: datetime) -> Pinned:
    p = CONFIG.policies[policy]
    return Pinned.of(p, CONFIG.calendars[p.calendar], received)


def by_name(statuses) -> dict:
    return {s.name: s for s in statuses}


def test_every_preset_ships_and_the_rules_choose_them() -> None:
    assert set(CONFIG.policies) == {"fca-disp", "fca-psd2", "cfpb", "asic-rg271", "default"}
    assert CONFIG.policy_for(jurisdiction="GB")[0].id == "fca-disp"
    assert CONFIG.policy_for(jurisdiction="gb", product="Payments")[0].id == "fca-psd2"
    assert CONFIG.policy_for(jurisdiction="US", channel="web")[0].id == "cfpb"
    assert CONFIG.policy_for(jurisdiction="AU")[0].id == "asic-rg271"
    assert CONFIG.policy_for(jurisdiction=None)[0].id == "default"


def test_fca_disp_eight_weeks_and_summary_resolution_by_the_third_business_day() -> None:
    received = uk(2026, 12, 22, 15, 0)  # Tuesday before Christmas
    status = by_name(evaluate(pinned("fca-disp", received), received, {}, [], received))
    # 3 business days after the 22nd: 23, 24, (25 and 28 holidays) 29.
    assert status["summary_resolution"].due_at == uk(2026, 12, 29, 17, 30)
    assert status["final_response"].due_at == uk(2027, 2, 17, 0, 0)  # end of 16 February: 56 days after
    assert status["final_response"].state is State.ON_TIME


def test_a_missed_summary_resolution_is_no_breach() -> None:
    received = uk(2026, 6, 1, 10, 0)
    status = by_name(evaluate(pinned("fca-disp", received), received, {"acknowledged": uk(2026, 6, 1, 11, 0)}, [],
                              uk(2026, 6, 10, 12, 0)))
    assert status["summary_resolution"].state is State.NOT_NEEDED
    assert status["acknowledgement"].state is State.MET
    assert status["final_response"].state is State.ON_TIME


def test_psd2_fifteen_business_days_or_thirty_five_after_a_holding_reply() -> None:
    received = uk(2026, 6, 1, 10, 0)
    plan = pinned("fca-psd2", received)
    status = by_name(evaluate(plan, received, {}, [], uk(2026, 6, 25, 12, 0)))
    assert status["final_response"].due_at == uk(2026, 6, 22, 17, 30)
    assert status["final_response"].state is State.BREACHED
    assert "overdue by 2 business days" in status["final_response"].explanation
    assert status["holding_reply"].state is State.NOT_NEEDED  # optional: the breach is the final response's
    held = by_name(evaluate(plan, received, {"holding_reply_sent": uk(2026, 6, 19, 9, 0)}, [], uk(2026, 6, 25, 12)))
    assert held["final_response"].extended and held["final_response"].due_at == uk(2026, 7, 20, 17, 30)
    assert held["final_response"].state is State.ON_TIME
    late = by_name(evaluate(plan, received, {"holding_reply_sent": uk(2026, 6, 23, 9, 0)}, [], uk(2026, 6, 25, 12)))
    assert not late["final_response"].extended  # a holding reply after the 15 days extends nothing


def test_cfpb_fifteen_days_or_sixty_in_progress() -> None:
    received = at("America/New_York", 2026, 3, 2, 9, 0)
    plan = pinned("cfpb", received)
    status = by_name(evaluate(plan, received, {}, [], received))
    assert status["final_response"].due_at == at("America/New_York", 2026, 3, 18, 0, 0)
    held = by_name(evaluate(plan, received, {"holding_reply_sent": received + timedelta(days=3)}, [], received))
    assert held["final_response"].due_at == at("America/New_York", 2026, 5, 2, 0, 0)


def test_asic_one_business_day_to_acknowledge_thirty_days_to_respond() -> None:
    received = at("Australia/Sydney", 2026, 12, 24, 16, 0)  # Christmas Eve; 25, 26 (28 observed) holidays
    status = by_name(evaluate(pinned("asic-rg271", received), received, {}, [], received))
    assert status["acknowledgement"].due_at == at("Australia/Sydney", 2026, 12, 29, 17, 0)
    assert status["final_response"].due_at == at("Australia/Sydney", 2027, 1, 24, 0, 0)


def test_states_and_their_sentences() -> None:
    received = uk(2026, 6, 1, 9, 0)
    plan = pinned("default", received)  # acknowledgement in 2 business days (Wednesday 17:30)
    ack = lambda steps, pauses, now: by_name(evaluate(plan, received, steps, pauses, now))["acknowledgement"]
    on_time = ack({}, [], uk(2026, 6, 1, 12, 0))
    assert on_time.state is State.ON_TIME and on_time.explanation.startswith(
        "On time: due Wednesday 3 June 2026 17:30 BST, 2 business days 5 hours 30 minutes left")
    assert "Policy default v1, calendar england-and-wales v1." in on_time.explanation
    at_risk = ack({}, [], uk(2026, 6, 3, 13, 0))  # 21 of 25.5 hours
    assert at_risk.state is State.AT_RISK and at_risk.used_share >= 0.8
    met = ack({"acknowledged": uk(2026, 6, 2, 9, 0)}, [], uk(2026, 6, 9))
    assert met.state is State.MET and met.met_at == uk(2026, 6, 2, 9, 0)
    late = ack({"acknowledged": uk(2026, 6, 4, 10, 0)}, [], uk(2026, 6, 9))
    assert late.state is State.MET_LATE and "1 hour after it was due" in late.explanation
    paused = ack({}, [Pause(uk(2026, 6, 2, 9, 0))], uk(2026, 6, 9))
    assert paused.state is State.PAUSED and paused.due_at is None
    assert "2 business days will be left" in paused.explanation
    resumed = ack({}, [Pause(uk(2026, 6, 2, 9, 0), uk(2026, 6, 8, 9, 0))], uk(2026, 6, 8, 10, 0))
    assert resumed.due_at == uk(2026, 6, 9, 17, 30)
    assert "stopped for 4 business days" in resumed.explanation


def test_next_due_and_elapsed_share() -> None:
    received = uk(2026, 6, 1, 9, 0)
    plan = pinned("fca-disp", received)
    statuses = evaluate(plan, received, {"acknowledged": uk(2026, 6, 1, 10)}, [], uk(2026, 6, 2, 9))
    assert next_due(statuses).name == "final_response"
    assert elapsed_share(plan, "final_response", received, [], uk(2026, 6, 29, 9)) == pytest.approx(0.5, abs=0.01)


@settings(max_examples=40, deadline=None)
@given(offset=st.integers(0, 700))
def test_a_pinned_case_keeps_its_promises_when_the_holidays_change(offset: int) -> None:
    """The case stores its policy and calendar with the holidays written in: stored and read back, it evaluates the
    same when the holidays library (upgraded, or the calendar file edited) no longer knows a single holiday."""
    received = uk(2026, 12, 21, 9) - timedelta(days=offset)
    plan = pinned("fca-psd2", received)
    before = evaluate(plan, received, {}, [], received)
    stored = plan.model_dump_json()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys.modules["amends.domain.calendar"], "_holidays", lambda country, subdivision, year: {})
        assert evaluate(Pinned.model_validate_json(stored), received, {}, [], received) == before
        if offset == 0:  # Christmas in the window: unpinned, the same case would now be promised another date
            unpinned = Pinned(policy=plan.policy, calendar=CONFIG.calendars["england-and-wales"])
            assert evaluate(unpinned, received, {}, [], received) != before


def write(folder: Path, relative: str, change) -> None:
    file = folder / relative
    data = json.loads(file.read_text())
    change(data)
    file.write_text(json.dumps(data))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(DEFAULT_DIR, tmp_path / "sla")
    return tmp_path / "sla"


@pytest.mark.parametrize(("relative", "change", "message"), [
    ("policies/fca-disp.json", lambda d: d["milestones"][1].update(unit="weeks"),
     "policies/fca-disp.json: milestones.1.unit: Input should be 'calendar_days', 'business_days' or 'business_hours'"),
    ("policies/fca-disp.json", lambda d: d["milestones"][0].update(met_by=["acknowleged"]),
     "'acknowleged' is not a step"),
    ("policies/fca-disp.json", lambda d: d.update(calendar="scotland"), "calendar: 'scotland' is not a calendar"),
    ("policies/fca-psd2.json", lambda d: d["milestones"][2]["extension"].update(after="holding"),
     "extension.after names no milestone ('holding')"),
    ("policies/default.json", lambda d: d.update(id="org"), "id: is 'org', but the file is named default.json"),
    ("calendars/england-and-wales.json", lambda d: d.update(time_zone="London"),
     "time_zone: 'London' is not a time zone (did you mean Europe/London"),
    ("calendars/england-and-wales.json", lambda d: d.update(closes="08:00"), "closes (08:00) must be after opens"),
    ("calendars/england-and-wales.json", lambda d: d["public_holidays"].update(subdivision="XYZ"),
     "GB has no subdivision 'XYZ'"),
    ("rules.json", lambda d: d["rules"][0].update(policy="psd2"), "rules.json: rules.0.policy: 'psd2' is not a policy"),
    ("rules.json", lambda d: d["rules"][1]["when"].update(country="GB"), "rules.1.when.country: not a field"),
    ("rules.json", lambda d: d.update(default="none"), "rules.json: default: 'none' is not a policy"),
])
def test_a_broken_file_is_refused_naming_the_file_and_the_field(folder: Path, relative, change, message) -> None:
    write(folder, relative, change)
    with pytest.raises(SlaConfigInvalid) as refused:
        parse_config(folder)
    assert message in str(refused.value).replace(str(folder) + "/", "")


def test_the_shipped_folder_parses_as_it_is(folder: Path) -> None:
    assert parse_config(folder) == CONFIG
