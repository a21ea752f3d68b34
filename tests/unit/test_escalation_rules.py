"""Escalation rules to the word: the reason a firing records, the order firings come in, when an overdue rule is
reached, and the messages that refuse a rule whose actions or conditions do not fit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from amends.domain.escalation import Action, ActionKind, EscalationRules, Rule, due_firings
from amends.domain.lifecycle import Status
from amends.domain.sla import Pinned, elapsed_share, evaluate, overdue_by
from amends.domain.sla_config import load_config
from pydantic import ValidationError

CONFIG = load_config()
RECEIVED = datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)  # Monday
PLAN = Pinned.of(CONFIG.policies["fca-disp"], CONFIG.calendars["england-and-wales"], RECEIVED)
NOTIFY = [Action(do=ActionKind.NOTIFY_OWNER)]


def fire(rules: list[Rule], now: datetime, steps=None):
    statuses = evaluate(PLAN, RECEIVED, steps or {}, [], now)
    shares = {s.name: elapsed_share(PLAN, s.name, RECEIVED, [], now) for s in statuses}
    units = {m.name: m.unit for m in PLAN.policy.milestones}
    overdue = {s.name: overdue_by(PLAN, s.due_at, now, units[s.name]) for s in statuses if s.due_at}
    return due_firings(EscalationRules(rules=rules), statuses, shares, overdue, "normal", None,
                       Status.INVESTIGATING, set(), now)


def test_a_firing_records_the_rule_the_time_and_the_milestones_sentence() -> None:
    now = datetime(2026, 6, 30, 10, 5, tzinfo=UTC)
    [f] = fire([Rule(id="half", milestone="final_response", level=2, at_percent=50, actions=NOTIFY)], now)
    assert (f.rule, f.level, f.milestone, f.key, f.actions) == ("half", 2, "final_response", "half#2", NOTIFY)
    assert f.reason.startswith("Escalation half level 2: 50 % of the time for final_response used at "
                               "2026-06-30 10:05 UTC. On time: due the end of Monday 27 July 2026 (BST),")


def test_an_overdue_firing_says_by_how_much_at_least() -> None:
    now = datetime(2026, 6, 9, 12, 0, tzinfo=UTC)
    [f] = fire([Rule(id="ack", milestone="acknowledgement", level=1, overdue_by_hours=3, actions=NOTIFY)], now)
    assert f.reason.startswith("Escalation ack level 1: acknowledgement overdue by at least 3 hours at "
                               "2026-06-09 12:00 UTC. Breached: due Monday 8 June 2026 17:30 BST")


def test_an_overdue_rule_waits_for_its_hours_and_for_the_breach() -> None:
    rule = Rule(id="ack", milestone="acknowledgement", level=1, overdue_by_hours=3, actions=NOTIFY)
    assert fire([rule], datetime(2026, 6, 9, 10, 59, tzinfo=UTC)) == []  # 2 h 59 min of business time late
    assert len(fire([rule], datetime(2026, 6, 9, 11, 0, tzinfo=UTC))) == 1
    at_once = Rule(id="ack", milestone="acknowledgement", level=1, overdue_by_hours=0, actions=NOTIFY)
    assert fire([at_once], datetime(2026, 6, 8, 16, 30, tzinfo=UTC)) == []  # due now: not yet breached
    assert len(fire([at_once], datetime(2026, 6, 8, 16, 31, tzinfo=UTC))) == 1  # a minute late is enough
    assert fire([at_once], datetime(2026, 6, 8, 16, 31, tzinfo=UTC), {"acknowledged": RECEIVED}) == []


def test_a_share_rule_fires_from_exactly_its_share() -> None:
    rule = Rule(id="ack", milestone="acknowledgement", level=1, at_percent=50, actions=NOTIFY)
    half = RECEIVED + timedelta(days=2, hours=8.5)  # 25.5 of 51 business hours: Wednesday 17:30
    assert fire([rule], half - timedelta(minutes=1)) == []
    assert [f.key for f in fire([rule], half)] == ["ack#1"]


def test_firings_come_lowest_level_first_whatever_the_files_order() -> None:
    rules = [Rule(id="b", milestone="final_response", level=3, at_percent=10, actions=NOTIFY),
             Rule(id="a", milestone="final_response", level=1, at_percent=10, actions=NOTIFY),
             Rule(id="c", milestone="final_response", level=2, at_percent=10, actions=NOTIFY)]
    assert [f.key for f in fire(rules, RECEIVED + timedelta(days=10))] == ["a#1", "c#2", "b#3"]


def refused(make) -> str:
    with pytest.raises(ValidationError) as error:
        make()
    return error.value.errors()[0]["msg"].removeprefix("Value error, ")


def test_an_action_is_refused_when_it_lacks_or_has_too_much() -> None:
    assert refused(lambda: Action(do=ActionKind.NOTIFY_PERSON)) == "notify_person needs 'address'"
    assert refused(lambda: Action(do=ActionKind.NOTIFY_PERSON, address="a@example.com", role="x")) == (
        "notify_person takes no role")
    assert refused(lambda: Action(do=ActionKind.MARK_BREACHED, role="x", address="a@example.com")) == (
        "mark_breached takes no address, role")
    assert Action(do=ActionKind.NOTIFY_ROLE, role="manager").role == "manager"


def test_a_rule_is_refused_without_exactly_one_time_condition() -> None:
    message = "give exactly one of at_percent (e.g. 80) and overdue_by_hours (e.g. 0 for at the deadline)"
    assert refused(lambda: Rule(id="r", milestone="m", level=1, actions=NOTIFY)) == message
    assert refused(lambda: Rule(id="r", milestone="m", level=1, at_percent=5, overdue_by_hours=1,
                                actions=NOTIFY)) == message
    assert Rule(id="r", milestone="m", level=1, at_percent=100, actions=NOTIFY).at_percent == 100
    refused(lambda: Rule(id="r", milestone="m", level=1, at_percent=101, actions=NOTIFY))
    refused(lambda: Rule(id="r", milestone="m", level=0, at_percent=5, actions=NOTIFY))


def test_rules_naming_a_milestone_of_no_policy_are_refused_with_the_milestones_there_are() -> None:
    rules = EscalationRules(rules=[Rule(id="r", milestone="final_response", level=1, at_percent=5, actions=NOTIFY),
                                   Rule(id="r", milestone="ack", level=2, at_percent=5, actions=NOTIFY)])
    with pytest.raises(ValueError) as error:
        rules.check_against({"p": PLAN.policy})
    assert str(error.value) == ("rules.1.milestone: 'ack' is a milestone of no policy (milestones: acknowledgement, "
                                "final_response, summary_resolution)")


def test_a_case_without_a_category_reads_it_as_empty() -> None:
    rule = Rule(id="r", milestone="final_response", level=1, at_percent=10, category=["", "billing"], actions=NOTIFY)
    assert rule.applies("normal", None, Status.INVESTIGATING)
    assert rule.applies("normal", "", Status.INVESTIGATING)
    assert not rule.model_copy(update={"category": ["billing"]}).applies("normal", None, Status.INVESTIGATING)
