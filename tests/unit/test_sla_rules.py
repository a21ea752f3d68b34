"""Milestones to the word and the minute: the sentence staff read for every state, the boundaries between states
(met exactly at the due date, due now, at risk at exactly the policy's share), when a holding reply extends the final
response, a time limit of no time, and the policy files a policy refuses, with the message it gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from amends.domain.deadlines import Pause, Unit
from amends.domain.sla import (
    Extension,
    Milestone,
    Pinned,
    Policy,
    State,
    elapsed_share,
    evaluate,
    next_due,
    overdue_by,
)
from amends.domain.sla_config import load_config
from pydantic import ValidationError

CONFIG = load_config()
EW = CONFIG.calendars["england-and-wales"]


def uk(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)


RECEIVED = uk(2026, 6, 1, 9, 0)  # a Monday, BST
DEFAULT = Pinned.of(CONFIG.policies["default"], EW, RECEIVED)  # acknowledgement 2 business days, final 56 days
TAIL = " Policy default v1, calendar england-and-wales v1."


def status(steps=None, pauses=(), now=RECEIVED, plan=DEFAULT, name="acknowledgement"):
    return {s.name: s for s in evaluate(plan, RECEIVED, steps or {}, list(pauses), now)}[name]


def milestone(**fields) -> Milestone:
    return Milestone(**({"name": "answer", "description": "An answer", "within": 2, "unit": "business_days",
                         "met_by": ["decision_communicated"]} | fields))


def plan(*milestones: Milestone, at_risk_percent: int = 80) -> Pinned:
    return Pinned.of(Policy(id="p", version=3, title="t", calendar=EW.id, at_risk_percent=at_risk_percent,
                            milestones=list(milestones)), EW, RECEIVED)


# -- the sentences ---------------------------------------------------------------------------------------------------

def test_on_time_says_when_it_is_due_what_is_left_and_the_share_used() -> None:
    s = status(now=uk(2026, 6, 1, 12, 0))
    assert (s.state, s.limit, s.used_share, s.promised, s.extended) == (State.ON_TIME, "2 business days", 0.1176,
                                                                        True, False)
    assert s.explanation == ("On time: due Wednesday 3 June 2026 17:30 BST, 2 business days 5 hours 30 minutes left "
                             "(12% used). An acknowledgement: 2 business days." + TAIL)


def test_a_due_date_at_midnight_is_said_as_the_end_of_the_day_before() -> None:
    s = status(now=uk(2026, 6, 1, 12, 0), name="final_response")
    assert s.explanation == ("On time: due the end of Monday 27 July 2026 (BST), 56 days 12 hours left (0% used). "
                             "A final response: 56 days." + TAIL)


def test_at_risk_met_met_late_and_breached_sentences() -> None:
    assert status(now=uk(2026, 6, 3, 13, 0)).explanation == (
        "At risk: 82% of the time used, 4 hours 30 minutes left; due Wednesday 3 June 2026 17:30 BST. "
        "An acknowledgement: 2 business days." + TAIL)
    assert status({"acknowledged": uk(2026, 6, 2, 9, 0)}, now=uk(2026, 6, 9)).explanation == (
        "Met on Tuesday 2 June 2026 09:00 BST, with 2 business days to spare. An acknowledgement: 2 business days."
        + TAIL)
    assert status({"acknowledged": uk(2026, 6, 4, 10, 0)}, now=uk(2026, 6, 9)).explanation == (
        "Met late on Thursday 4 June 2026 10:00 BST, 1 hour after it was due (Wednesday 3 June 2026 17:30 BST). "
        "An acknowledgement: 2 business days." + TAIL)
    assert status(now=uk(2026, 6, 4, 10, 0)).explanation == (
        "Breached: due Wednesday 3 June 2026 17:30 BST and not met; overdue by 1 hour. "
        "An acknowledgement: 2 business days." + TAIL)


def test_a_paused_and_a_resumed_clock_say_how_long_it_was_stopped() -> None:
    paused = status(pauses=[Pause(uk(2026, 6, 2, 9, 0))], now=uk(2026, 6, 9))
    assert paused.used_share == 0.3333  # Monday's 8.5 hours of 25.5
    assert paused.explanation == (
        "Paused while we wait for the complainant; 2 business days will be left when they reply. An acknowledgement: "
        "2 business days. The clock was stopped for 5 business days while we waited for the complainant, so the due "
        "date moved on by that much." + TAIL)
    resumed = status(pauses=[Pause(uk(2026, 6, 2, 9, 0), uk(2026, 6, 3, 9, 0))], now=uk(2026, 6, 3, 10, 0))
    assert resumed.due_at == uk(2026, 6, 4, 17, 30)
    assert resumed.explanation.endswith(
        "(37% used). An acknowledgement: 2 business days. The clock was stopped for 1 business day while we waited "
        "for the complainant, so the due date moved on by that much." + TAIL)


def test_a_missed_early_exit_is_not_needed_and_promises_nothing() -> None:
    fca = Pinned.of(CONFIG.policies["fca-disp"], EW, RECEIVED)
    s = status(now=uk(2026, 6, 10, 12, 0), plan=fca, name="summary_resolution")
    assert (s.state, s.promised) == (State.NOT_NEEDED, False)
    assert s.explanation.startswith("Not needed: the time for it ended Thursday 4 June 2026 17:30 BST without it, "
                                    "which is no breach. Resolved by the close of the third business day")


def test_an_extended_final_response_says_why() -> None:
    psd2 = Pinned.of(CONFIG.policies["fca-psd2"], EW, RECEIVED)
    s = status({"holding_reply_sent": uk(2026, 6, 19, 9)}, now=uk(2026, 6, 25, 12), plan=psd2, name="final_response")
    assert (s.limit, s.extended, s.due_at) == ("35 business days", True, uk(2026, 7, 20, 17, 30))
    assert ": 35 business days (extended after a holding reply). Policy fca-psd2 v1," in s.explanation


# -- the boundaries --------------------------------------------------------------------------------------------------

def test_met_exactly_at_the_due_date_is_met_on_time() -> None:
    due = uk(2026, 6, 3, 17, 30)
    assert status({"acknowledged": due}, now=due + timedelta(days=1)).state is State.MET
    assert status({"acknowledged": due + timedelta(minutes=1)}, now=due + timedelta(days=1)).state is State.MET_LATE


def test_the_earliest_step_meets_a_milestone() -> None:
    p = plan(milestone(met_by=["decision_communicated", "closed"]))
    s = status({"closed": uk(2026, 6, 2, 10), "decision_communicated": uk(2026, 6, 2, 9)}, plan=p, name="answer")
    assert s.met_at == uk(2026, 6, 2, 9)


def test_due_now_is_not_yet_breached() -> None:
    due = uk(2026, 6, 3, 17, 30)
    assert status(now=due).state is State.AT_RISK
    assert status(now=due + timedelta(seconds=1)).state is State.BREACHED


def test_at_risk_from_exactly_the_policys_share() -> None:
    p = plan(milestone(within=10, unit="business_hours"), at_risk_percent=50)  # half: 5 h, Monday 14:00
    assert status(now=uk(2026, 6, 1, 13, 59), plan=p, name="answer").state is State.ON_TIME
    assert status(now=uk(2026, 6, 1, 14, 0), plan=p, name="answer").state is State.AT_RISK


def test_an_optional_milestone_is_never_at_risk_or_breached() -> None:
    p = plan(milestone(optional=True))
    assert status(now=uk(2026, 6, 3, 17, 0), plan=p, name="answer").state is State.ON_TIME
    assert status(now=uk(2026, 6, 4, 9, 0), plan=p, name="answer").state is State.NOT_NEEDED


def test_a_holding_reply_on_the_due_date_or_while_paused_still_extends() -> None:
    p = plan(milestone(name="holding", met_by=["holding_reply_sent"], optional=True),
             milestone(extension=Extension(within=5, unit="business_days", after="holding")))
    due = uk(2026, 6, 3, 17, 30)
    on_the_day = status({"holding_reply_sent": due}, plan=p, name="answer")
    assert (on_the_day.extended, on_the_day.due_at) == (True, uk(2026, 6, 8, 17, 30))
    paused = status({"holding_reply_sent": uk(2026, 6, 2, 9)}, [Pause(uk(2026, 6, 2, 10))], uk(2026, 6, 5), p,
                    "answer")
    assert (paused.extended, paused.limit, paused.due_at) == (True, "5 business days", None)


def test_a_limit_of_no_time_is_used_up_from_receipt() -> None:
    p = plan(milestone(within=0, unit="business_hours"))
    assert status(plan=p, name="answer").used_share == 1.0
    assert status(now=RECEIVED - timedelta(hours=1), plan=p, name="answer").used_share == 0.0
    assert elapsed_share(p, "answer", RECEIVED, [], RECEIVED) == 1.0


def test_elapsed_share_ignores_an_extension_and_the_paused_time() -> None:
    psd2 = Pinned.of(CONFIG.policies["fca-psd2"], EW, RECEIVED)
    # 15 business days from Monday 09:00: 16 days of 8.5 hours; Monday and Tuesday used, Wednesday paused.
    share = elapsed_share(psd2, "final_response", RECEIVED, [Pause(uk(2026, 6, 3, 9), uk(2026, 6, 4, 9))],
                          uk(2026, 6, 4, 9))
    assert share == 2 / 16


def test_overdue_by_counts_from_the_due_date_and_nothing_before_it() -> None:
    due = uk(2026, 6, 3, 17, 30)
    assert overdue_by(DEFAULT, due, due, Unit.BUSINESS_DAYS) == timedelta()
    assert overdue_by(DEFAULT, due, uk(2026, 6, 4, 10, 15), Unit.BUSINESS_DAYS) == timedelta(hours=1, minutes=15)


def test_the_next_answer_is_the_earliest_promised_milestone_not_settled() -> None:
    p = plan(milestone(name="soon", within=1, optional=True), milestone(name="later", within=3),
             milestone(name="latest", within=5))
    assert next_due(evaluate(p, RECEIVED, {}, [], RECEIVED)).name == "later"
    breached = evaluate(p, RECEIVED, {}, [], uk(2026, 6, 5, 9))
    assert next_due(breached).name == "later"  # overdue: still the next answer owed
    met = evaluate(p, RECEIVED, {"decision_communicated": uk(2026, 6, 2)}, [], uk(2026, 6, 2, 9))
    assert next_due(met) is None
    assert next_due(evaluate(p, RECEIVED, {}, [Pause(uk(2026, 6, 1, 10))], uk(2026, 6, 2))) is None


# -- the policies refused --------------------------------------------------------------------------------------------

def refused(make) -> str:
    with pytest.raises(ValidationError) as error:
        make()
    return error.value.errors()[0]["msg"]


def test_a_policy_is_refused_with_what_to_fix() -> None:
    assert refused(lambda: milestone(met_by=["ack", "closed", "sent"])) == (
        "Value error, met_by: 'ack', 'sent' is not a step (steps: acknowledged, holding_reply_sent, "
        "decision_communicated, resolved_and_closed, closed, referred)")
    assert refused(lambda: plan(milestone(), milestone(name="b"), milestone())) == (
        "Value error, milestones: a name is used twice (answer, answer, b)")
    assert refused(lambda: plan(milestone(extension=Extension(within=1, unit="business_days", after="answer")))) == (
        "Value error, milestone answer: cannot be extended by itself")
    assert refused(lambda: plan(milestone(extension=Extension(within=1, unit="business_days", after="x")))) == (
        "Value error, milestone answer: extension.after names no milestone ('x')")


def test_the_bounds_of_a_policys_numbers() -> None:
    assert Policy(id="p", version=1, title="t", calendar="c", milestones=[milestone()]).at_risk_percent == 80
    for share in (1, 99):
        assert plan(milestone(), at_risk_percent=share).policy.at_risk_percent == share
    for share in (0, 100):
        refused(lambda: plan(milestone(), at_risk_percent=share))  # noqa: B023
    refused(lambda: Policy(id="p", version=0, title="t", calendar="c", milestones=[milestone()]))
    refused(lambda: Policy(id="p", version=1, title="t", calendar="c", milestones=[]))
    assert milestone(within=0).within == 0
    refused(lambda: milestone(within=-1))
    refused(lambda: milestone(met_by=[]))
    assert Extension(within=1, unit="business_days", after="a").within == 1
    refused(lambda: Extension(within=0, unit="business_days", after="a"))


# -- the report staff read (amends.services.sla) ---------------------------------------------------------------------

def test_a_cases_sla_report_holds_its_milestones_as_of_the_clock_and_a_case_without_one_says_so() -> None:
    from amends.domain.case_sla import CaseSla
    from amends.domain.clock import FixedClock
    from amends.domain.model import Channel, open_case
    from amends.services import sla as sla_service

    from .cases import COMPLAINANT, opening
    from .conftest import make_submission
    from .memory import MemoryCaseRepository

    repo, now = MemoryCaseRepository(), uk(2026, 6, 2, 12, 0)
    case_sla = CaseSla.open(DEFAULT, CONFIG.escalation.rules)
    repo.record(open_case(reference="CMP-2026-7K3F9Q", access_token_hash="x" * 64, channel=Channel.WEB,
                          submission=make_submission(), actor=COMPLAINANT, received_at=RECEIVED,
                          received_at_local=RECEIVED, sla=case_sla))
    report = sla_service.report(" cmp-2026-7k3f9q ", repo=repo, clock=FixedClock(now))
    assert (report.case, report.sla, report.at) == (repo.cases["CMP-2026-7K3F9Q"], case_sla, now)
    assert report.milestones == case_sla.statuses(RECEIVED, now)
    assert [(m.name, m.state) for m in report.milestones][0] == ("acknowledgement", State.ON_TIME)

    repo.record(opening("CMP-2026-4M5N6P"))  # opened without one, as cases were before SLAs were pinned on them
    with pytest.raises(sla_service.NoSla) as missing:
        sla_service.report("cmp-2026-4m5n6p", repo=repo, clock=FixedClock(now))
    assert missing.value.args == ("CMP-2026-4M5N6P",)
