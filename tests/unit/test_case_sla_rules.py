"""A case's SLA, rule by rule: which escalation rules it is opened with, how each status change stops, starts and
meets its clock, what a firing records, the date quoted to the complainant, and the exact instant of the next check
for every kind of rule (a share of the time, overdue by some hours, past an extended due date, already reached)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from amends.domain.case_sla import CaseSla
from amends.domain.deadlines import Pause
from amends.domain.escalation import Action as Do
from amends.domain.escalation import ActionKind, Firing, Rule
from amends.domain.handling import ClosureReason
from amends.domain.lifecycle import Action, Status
from amends.domain.sla import Milestone, Pinned, Policy
from amends.domain.sla_config import load_config

CONFIG = load_config()
LONDON = ZoneInfo("Europe/London")
EW = CONFIG.calendars["england-and-wales"]


def uk(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


RECEIVED = uk(2026, 6, 1, 9, 0)  # a Monday, BST
NOTIFY = [Do(do=ActionKind.NOTIFY_OWNER)]


def rule(id: str, milestone: str, level: int = 1, **condition) -> Rule:
    return Rule(id=id, milestone=milestone, level=level, actions=condition.pop("actions", NOTIFY), **condition)


def sla(policy: str = "fca-disp", rules: list[Rule] | None = None) -> CaseSla:
    p = CONFIG.policies[policy]
    return CaseSla.open(Pinned.of(p, CONFIG.calendars[p.calendar], RECEIVED),
                        CONFIG.escalation.rules if rules is None else rules)


def check(s: CaseSla, now: datetime = RECEIVED, priority: str = "normal", category: str | None = None,
          status: Status = Status.INVESTIGATING) -> datetime | None:
    return s.next_check(RECEIVED, now, priority=priority, category=category, status=status)


def keys(s: CaseSla, now: datetime, **case) -> list[str]:
    return [f.key for f in s.firings(RECEIVED, now, **({"priority": "normal", "category": None,
                                                         "status": Status.INVESTIGATING} | case))]


# -- opening -------------------------------------------------------------------------------------------------------

def test_a_case_is_opened_with_only_the_rules_for_its_policys_milestones() -> None:
    rules = [rule("ack", "acknowledgement", at_percent=80), rule("hold", "holding_reply", at_percent=50)]
    assert [r.id for r in sla("fca-disp", rules).escalation] == ["ack"]  # fca-disp has no holding reply
    assert [r.id for r in sla("fca-psd2", rules).escalation] == ["ack", "hold"]


# -- status changes ------------------------------------------------------------------------------------------------

def test_awaiting_the_complainant_stops_the_clock_once_and_the_next_status_starts_it() -> None:
    asked, again, answered = RECEIVED + timedelta(days=1), RECEIVED + timedelta(days=2), RECEIVED + timedelta(days=5)
    s = sla()
    assert not s.paused
    s = s.after(Action.REQUEST_INFORMATION, Status.AWAITING_COMPLAINANT, asked)
    assert s.paused and s.pauses == (Pause(asked),)
    s = s.after(Action.REQUEST_INFORMATION, Status.AWAITING_COMPLAINANT, again)  # still waiting: the same pause
    assert s.pauses == (Pause(asked),)
    s = s.after(Action.RECEIVE_INFORMATION, Status.INVESTIGATING, answered)
    assert not s.paused and s.pauses == (Pause(asked, answered),)
    s = s.after(Action.PROPOSE_RESPONSE, Status.RESPONSE_PROPOSED, answered + timedelta(days=1))
    assert s.pauses == (Pause(asked, answered),)  # a running clock is left running


def test_each_step_meets_its_milestones_the_first_time_it_happens() -> None:
    t = [RECEIVED + timedelta(days=d) for d in range(6)]
    s = sla().after(Action.ACKNOWLEDGE, Status.ACKNOWLEDGED, t[1])
    s = s.after(Action.ASSESS, Status.ASSESSED, t[2])  # meets nothing
    assert s.steps == {"acknowledged": t[1]}
    s = s.after(Action.ACKNOWLEDGE, Status.ACKNOWLEDGED, t[3])
    assert s.steps == {"acknowledged": t[1]}
    assert s.after(Action.COMMUNICATE_DECISION, Status.DECISION_COMMUNICATED, t[4]).steps == {
        "acknowledged": t[1], "decision_communicated": t[4]}
    assert s.after(Action.CONCLUDE_REVIEW, Status.DECISION_COMMUNICATED, t[5]).steps == {
        "acknowledged": t[1], "decision_communicated": t[5]}


def test_closing_meets_the_closure_milestones_of_its_reason() -> None:
    at = RECEIVED + timedelta(days=2)
    close = lambda reason: sla().after(Action.CLOSE, Status.CLOSED, at, reason).steps  # noqa: E731
    assert close(ClosureReason.RESOLVED) == {"closed": at, "resolved_and_closed": at}
    assert close(ClosureReason.REFERRED_ELSEWHERE) == {"closed": at, "referred": at}
    assert close(ClosureReason.WITHDRAWN) == {"closed": at}
    assert close(None) == {"closed": at}


def test_a_summary_resolution_closes_the_case_within_its_milestone() -> None:
    at = uk(2026, 6, 3, 12, 0)
    s = sla().after(Action.CLOSE, Status.CLOSED, at, ClosureReason.RESOLVED)
    summary = {m.name: m for m in s.statuses(RECEIVED, at)}["summary_resolution"]
    assert (summary.state.value, summary.met_at) == ("met", at)


# -- firings -------------------------------------------------------------------------------------------------------

def firing(rule_id: str, level: int, milestone: str, *kinds: ActionKind) -> Firing:
    return Firing(rule=rule_id, level=level, milestone=milestone, actions=[Do(do=k) for k in kinds], reason="r")


def test_a_firing_is_recorded_once_and_marks_its_milestone_breached_only_when_it_says_so() -> None:
    s = sla().fire([firing("final-response", 1, "final_response", ActionKind.NOTIFY_OWNER)])
    assert s.fired == ("final-response#1",) and s.breached == ()
    s = s.fire([firing("ack", 2, "acknowledgement", ActionKind.EMIT_EVENT, ActionKind.MARK_BREACHED),
                firing("final-response", 3, "final_response", ActionKind.MARK_BREACHED)])
    assert s.fired == ("final-response#1", "ack#2", "final-response#3")
    assert s.breached == ("acknowledgement", "final_response")
    s = s.fire([firing("again", 4, "acknowledgement", ActionKind.MARK_BREACHED)])
    assert s.breached == ("acknowledgement", "final_response")  # each milestone once, in the order marked


def test_the_firings_follow_the_cases_priority_category_and_status() -> None:
    half = rule("half", "final_response", at_percent=50)
    urgent = rule("urgent", "final_response", at_percent=25, priority=["urgent"])
    billing = rule("billing", "final_response", at_percent=25, category=["Billing"])
    waiting = rule("waiting", "final_response", at_percent=25, status=[Status.RESPONSE_PROPOSED])
    s = sla(rules=[half, urgent, billing, waiting])
    day_15 = RECEIVED + timedelta(days=15)  # more than a quarter of eight weeks, less than half
    assert keys(s, day_15) == []
    assert keys(s, day_15, priority="urgent") == ["urgent#1"]
    assert keys(s, day_15, category="billing") == ["billing#1"]
    assert keys(s, day_15, status=Status.RESPONSE_PROPOSED) == ["waiting#1"]
    assert keys(s.fire(s.firings(RECEIVED, day_15, priority="urgent", category=None, status=Status.INVESTIGATING)),
                day_15, priority="urgent") == []


def test_an_unanswered_acknowledgement_fires_its_overdue_rule_in_business_hours() -> None:
    s = sla(rules=[rule("ack", "acknowledgement", overdue_by_hours=2)])
    # Due Monday 8 June 17:30; two business hours later is Tuesday 9 June 11:00.
    assert keys(s, uk(2026, 6, 9, 10, 59)) == []
    assert keys(s, uk(2026, 6, 9, 11, 0)) == ["ack#1"]


# -- the date quoted to the complainant ----------------------------------------------------------------------------

def test_the_quoted_date_while_the_clock_is_stopped_is_as_if_the_complainant_answered_now() -> None:
    due = uk(2026, 7, 28, 0, 0)  # the end of 27 July: eight weeks
    s = sla().after(Action.REQUEST_INFORMATION, Status.AWAITING_COMPLAINANT, RECEIVED + timedelta(days=3))
    assert s.final_response_due(RECEIVED, RECEIVED + timedelta(days=3)) == due
    assert s.final_response_due(RECEIVED, RECEIVED + timedelta(days=10)) == due + timedelta(days=7)
    assert s.final_response_due(RECEIVED, RECEIVED + timedelta(days=1)) == due  # asked about a time before the pause
    assert s.paused  # asking changes nothing on the case


def test_without_a_final_response_the_quoted_date_is_the_last_promised_milestone() -> None:
    policy = Policy(id="short", version=1, title="t", calendar="england-and-wales", milestones=[
        Milestone(name="acknowledgement", description="a", within=2, unit="business_days", met_by=["acknowledged"]),
        Milestone(name="answer", description="b", within=10, unit="business_days", met_by=["decision_communicated"]),
        Milestone(name="courtesy", description="c", within=20, unit="business_days", met_by=["holding_reply_sent"],
                  optional=True)])
    s = CaseSla.open(Pinned.of(policy, EW, RECEIVED), [])
    assert s.final_response_due(RECEIVED, RECEIVED) == uk(2026, 6, 15, 17, 30)  # 10 business days, not 20


def test_the_next_answer_is_the_earliest_milestone_still_to_meet() -> None:
    s = sla()
    assert s.next_answer(RECEIVED, RECEIVED).name == "acknowledgement"
    acknowledged = s.after(Action.ACKNOWLEDGE, Status.ACKNOWLEDGED, RECEIVED + timedelta(hours=1))
    assert acknowledged.next_answer(RECEIVED, RECEIVED + timedelta(hours=2)).name == "final_response"


# -- the next check ------------------------------------------------------------------------------------------------

SECOND = timedelta(seconds=1)


def test_the_next_check_is_the_earliest_rule_a_second_after_it_can_be_reached() -> None:
    # Eight weeks from Monday 09:00 to the end of 27 July is 56 days 15 hours: half of it is 28 days 7.5 hours.
    s = sla(rules=[rule("late", "final_response", 2, at_percent=80), rule("half", "final_response", at_percent=50)])
    assert check(s) == uk(2026, 6, 29, 16, 30) + SECOND
    assert check(s.fire([firing("half", 1, "final_response")])) == uk(2026, 7, 16, 16, 12) + SECOND  # 80 %: 45 days 7.2 hours


def test_a_rule_already_reached_is_checked_at_once() -> None:
    s = sla(rules=[rule("half", "final_response", at_percent=50)])
    now = uk(2026, 7, 1, 12, 0)
    assert check(s, now) == now


def test_an_overdue_rule_is_checked_its_hours_after_the_due_date() -> None:
    s = sla(rules=[rule("ack", "acknowledgement", overdue_by_hours=0)])
    assert check(s) == uk(2026, 6, 8, 17, 30) + SECOND
    s = sla(rules=[rule("ack", "acknowledgement", overdue_by_hours=2)])
    assert check(s) == uk(2026, 6, 9, 11, 0) + SECOND  # two business hours: from Tuesday's opening


def test_rules_that_cannot_fire_are_not_checked_for() -> None:
    ack = rule("ack", "acknowledgement", at_percent=80)
    urgent = rule("urgent", "final_response", at_percent=25, priority=["urgent"])
    s = sla(rules=[ack, urgent])
    assert check(s) == uk(2026, 6, 5, 15, 48) + SECOND  # 80 % of the acknowledgement's 51 hours
    acknowledged = s.after(Action.ACKNOWLEDGE, Status.ACKNOWLEDGED, RECEIVED + timedelta(hours=1))
    assert check(acknowledged) is None  # met: its rule is done, and the other is for urgent cases
    # a quarter of 56 days 15 hours is 14 days 3.75 hours
    assert check(acknowledged, priority="urgent") == uk(2026, 6, 15, 12, 45) + SECOND
    assert check(s.fire([firing("ack", 1, "acknowledgement")])) is None


def test_no_check_while_the_clock_is_stopped_and_the_pause_moves_it_on() -> None:
    s = sla(rules=[rule("half", "final_response", at_percent=50)])
    asked = s.after(Action.REQUEST_INFORMATION, Status.AWAITING_COMPLAINANT, RECEIVED + timedelta(days=2))
    assert check(asked) is None
    answered = asked.after(Action.RECEIVE_INFORMATION, Status.INVESTIGATING, RECEIVED + timedelta(days=5))
    assert check(answered) == uk(2026, 7, 2, 16, 30) + SECOND


def test_an_overdue_rule_after_a_holding_reply_waits_for_the_extended_due_date() -> None:
    # PSD2: 15 business days (Monday 22 June 17:30), 35 after a holding reply (Monday 20 July 17:30).
    s = sla("fca-psd2", rules=[rule("final", "final_response", overdue_by_hours=1)])
    assert check(s) == uk(2026, 6, 23, 10, 0) + SECOND
    held = s.model_copy(update={"steps": {"holding_reply_sent": uk(2026, 6, 10, 12, 0)}})
    assert check(held) == uk(2026, 7, 21, 10, 0) + SECOND


def test_the_quoted_date_while_stopped_again_keeps_the_earlier_pause() -> None:
    first = (RECEIVED + timedelta(days=2), RECEIVED + timedelta(days=4))
    s = sla().after(Action.REQUEST_INFORMATION, Status.AWAITING_COMPLAINANT, first[0])
    s = s.after(Action.RECEIVE_INFORMATION, Status.INVESTIGATING, first[1])
    s = s.after(Action.REQUEST_INFORMATION, Status.AWAITING_COMPLAINANT, RECEIVED + timedelta(days=6))
    # two days stopped before, and one more so far: the end of 27 July moves on three days
    assert s.final_response_due(RECEIVED, RECEIVED + timedelta(days=7)) == uk(2026, 7, 31, 0, 0)


def test_the_quoted_date_is_the_final_responses_even_when_another_milestone_ends_later() -> None:
    policy = Policy(id="remedy", version=1, title="t", calendar="england-and-wales", milestones=[
        Milestone(name="final_response", description="a", within=10, unit="business_days",
                  met_by=["decision_communicated"]),
        Milestone(name="remedy_paid", description="b", within=20, unit="business_days", met_by=["closed"])])
    s = CaseSla.open(Pinned.of(policy, EW, RECEIVED), [])
    assert s.final_response_due(RECEIVED, RECEIVED) == uk(2026, 6, 15, 17, 30)


def test_an_overdue_rule_on_a_calendar_day_milestone_counts_every_hour_past_it() -> None:
    s = sla(rules=[rule("final", "final_response", overdue_by_hours=2)])
    # Due at the end of Monday 27 July: two hours later is 02:00 on Tuesday, long before the office opens.
    assert keys(s, uk(2026, 7, 28, 1, 59)) == []
    assert keys(s, uk(2026, 7, 28, 2, 0)) == ["final#1"]


def test_the_next_check_follows_the_cases_category_and_status() -> None:
    s = sla(rules=[rule("billing", "final_response", at_percent=50, category=["billing"]),
                   rule("proposed", "final_response", at_percent=50, status=[Status.RESPONSE_PROPOSED])])
    half = uk(2026, 6, 29, 16, 30) + SECOND
    assert check(s) is None
    assert check(s, category="Billing") == half
    assert check(s, status=Status.RESPONSE_PROPOSED) == half


def test_an_overdue_rule_after_a_holding_reply_counts_the_extension_in_calendar_days() -> None:
    # CFPB: 15 days, 60 after a holding reply; received 04:00 in New York, due at the end of 31 July there.
    s = sla("cfpb", rules=[rule("final", "final_response", overdue_by_hours=1)])
    held = s.model_copy(update={"steps": {"holding_reply_sent": RECEIVED + timedelta(days=3)}})
    new_york = ZoneInfo("America/New_York")
    assert check(held) == datetime(2026, 8, 1, 1, 0, tzinfo=new_york).astimezone(UTC) + SECOND
