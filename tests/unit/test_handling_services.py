"""The handling use cases against an in-memory repository that keeps the adapter's promises (tests/unit/memory.py):
a complaint from assessment to closure, a merge as one transaction, concurrent writers, the sweep, and the
complainant's side."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from amends.domain.clock import FixedClock
from amends.domain.errors import CaseNotFound, ConcurrentUpdate, InvalidLink, NotUninvolved
from amends.domain.handling import ClosureReason, LinkRelation, Outcome
from amends.domain.lifecycle import Status
from amends.services import complainant, decision, handling
from amends.services.common import hash_token
from amends.settings import Settings

from .cases import COMPLAINANT, HANDLER, MANAGER, SUPERVISOR, SUPERVISOR_2, T0, content, findings, opening
from .memory import MemoryCaseRepository

TOKEN = "complainant-token"
SETTINGS = Settings(table_name="t", event_bus_name="b", approval_threshold=Decimal(100), decision_reply_days=14,
                    reopen_window_days=30, external_body="the Ombudsman", external_time_limit="six months")


@pytest.fixture
def world():
    repo, clock = MemoryCaseRepository(), FixedClock(T0)
    for ref in ("CMP-2026-AAAAAA", "CMP-2026-BBBBBB"):
        change = opening(ref)
        repo.record(change.model_copy(update={"case": change.case.model_copy(
            update={"access_token_hash": hash_token(TOKEN)})}))
    return repo, clock


def deps(world, **more):
    repo, clock = world
    return {"repo": repo, "clock": clock, **more}


def test_a_complaint_from_assessment_to_acceptance(world) -> None:
    repo, clock = world
    ref = "CMP-2026-AAAAAA"
    handling.assess(ref, findings(severity="high"), HANDLER, **deps(world, settings=SETTINGS))
    handling.start_investigation(ref, HANDLER, owner=HANDLER.id, **deps(world))
    handling.request_information(ref, "Which branch?", HANDLER, **deps(world))
    complainant.add_message(ref, TOKEN, "Leeds", **deps(world))
    decision.propose_response(ref, content(money="50"), HANDLER, **deps(world, settings=SETTINGS))
    decision.approve_response(ref, SUPERVISOR, **deps(world))  # high severity: approval needed below 100 too
    clock.advance(timedelta(days=1))
    decided = decision.communicate_decision(ref, HANDLER, **deps(world, settings=SETTINGS))
    assert decided.reply_due_at == T0 + timedelta(days=15)  # DecisionReplyDays from the settings
    assert "the Ombudsman" in decided.decision.render()
    closed = complainant.answer_decision(ref, TOKEN, accept=True, reason=None, **deps(world, settings=SETTINGS))
    assert closed.closure_reason is ClosureReason.UPHELD_MONETARY_REMEDY
    assert closed.closure.reopen_until == T0 + timedelta(days=31)
    assert [e.seq for e in repo.timelines[ref]] == list(range(1, closed.version + 1))
    assert repo.events_of(ref).count("DecisionCommunicated") == 1


def test_a_rejection_then_a_review_by_someone_uninvolved(world) -> None:
    ref = "CMP-2026-AAAAAA"
    handling.assess(ref, findings(), HANDLER, **deps(world, settings=SETTINGS))
    handling.start_investigation(ref, HANDLER, owner=HANDLER.id, **deps(world))
    decision.propose_response(ref, content(Outcome.NOT_UPHELD), HANDLER, **deps(world, settings=SETTINGS))
    decision.communicate_decision(ref, HANDLER, **deps(world, settings=SETTINGS))
    review = complainant.answer_decision(ref, TOKEN, accept=False, reason="You ignored my letter",
                                         **deps(world, settings=SETTINGS))
    assert review.status is Status.INTERNAL_REVIEW
    with pytest.raises(NotUninvolved):  # the owner and proposer, even promoted, took part
        decision.conclude_review(ref, content(), HANDLER.model_copy(update={"roles": ("manager",)}),
                                 **deps(world, settings=SETTINGS))
    final = decision.conclude_review(ref, content(Outcome.PARTLY_UPHELD), SUPERVISOR, **deps(world, settings=SETTINGS))
    assert final.decision.final and final.status is Status.DECISION_COMMUNICATED
    closed = complainant.answer_decision(ref, TOKEN, accept=False, reason="Still wrong", **deps(world, settings=SETTINGS))
    assert closed.status is Status.CLOSED and closed.closure_reason is ClosureReason.UPHELD_NON_MONETARY_REMEDY


def test_a_wrong_token_answers_nothing(world) -> None:
    with pytest.raises(CaseNotFound):
        complainant.answer_decision("CMP-2026-AAAAAA", "guess", accept=True, reason=None,
                                    **deps(world, settings=SETTINGS))


def test_a_merge_is_one_transaction_of_both_cases(world) -> None:
    repo, _ = world
    before = repo.transactions
    merged = handling.link("cmp-2026-aaaaaa", "CMP-2026-BBBBBB", LinkRelation.DUPLICATE_OF, HANDLER,
                           **deps(world, settings=SETTINGS))
    assert merged.closure.merged_into == "CMP-2026-BBBBBB" and repo.transactions == before + 1
    assert repo.get("CMP-2026-BBBBBB").links[0].reference == "CMP-2026-AAAAAA"
    assert repo.events_of("CMP-2026-AAAAAA")[-2:] == ["CaseStatusChanged", "CaseMerged"]
    assert repo.events_of("CMP-2026-BBBBBB")[-1] == "CaseLinked"
    with pytest.raises(InvalidLink, match="no complaint CMP-2026-ZZZZZZ"):
        handling.link("CMP-2026-BBBBBB", "CMP-2026-ZZZZZZ", LinkRelation.RELATED, HANDLER,
                      **deps(world, settings=SETTINGS))


def test_a_merge_racing_a_writer_on_the_other_case_is_retried_on_fresh_copies(world) -> None:
    repo, clock = world
    note = repo.get("CMP-2026-BBBBBB").add_note("meanwhile", SUPERVISOR, T0)
    repo.before_write.append(lambda r: r.record(note))  # lands between the merge's reads and its write
    handling.link("CMP-2026-AAAAAA", "CMP-2026-BBBBBB", LinkRelation.DUPLICATE_OF, HANDLER,
                  **deps(world, settings=SETTINGS))
    other = repo.get("CMP-2026-BBBBBB")
    assert other.version == 3 and [e.action for e in repo.timelines[other.reference]] == ["open", "add_note", "link"]
    assert repo.get("CMP-2026-AAAAAA").version == 2  # written once, not once per attempt


def test_a_merge_that_keeps_losing_the_race_changes_neither_case(world) -> None:
    repo, _ = world
    for _ in range(3):
        repo.before_write.append(lambda r: r.record(r.get("CMP-2026-BBBBBB").add_note("again", SUPERVISOR, T0)))
    with pytest.raises(ConcurrentUpdate):
        handling.link("CMP-2026-AAAAAA", "CMP-2026-BBBBBB", LinkRelation.DUPLICATE_OF, HANDLER,
                      **deps(world, settings=SETTINGS))
    assert repo.get("CMP-2026-AAAAAA").status is Status.RECEIVED and repo.get("CMP-2026-AAAAAA").version == 1
    assert not repo.get("CMP-2026-BBBBBB").links


def test_the_sweep_closes_an_unanswered_decision_once(world) -> None:
    repo, clock = world
    ref = "CMP-2026-AAAAAA"
    handling.assess(ref, findings(), HANDLER, **deps(world, settings=SETTINGS))
    handling.start_investigation(ref, HANDLER, owner=HANDLER.id, **deps(world))
    decision.propose_response(ref, content(), HANDLER, **deps(world, settings=SETTINGS))
    due = decision.communicate_decision(ref, HANDLER, **deps(world, settings=SETTINGS)).reply_due_at
    assert decision.close_unanswered(ref, due - timedelta(minutes=1), repo=repo, settings=SETTINGS) is None
    closed = decision.close_unanswered(ref, due, repo=repo, settings=SETTINGS)
    assert closed.closure_reason is ClosureReason.NO_REPLY
    assert decision.close_unanswered(ref, due + timedelta(days=1), repo=repo, settings=SETTINGS) is None
    assert repo.get(ref).version == closed.version


def test_closing_and_reopening_through_the_services(world) -> None:
    repo, clock = world
    ref = "CMP-2026-AAAAAA"
    handling.close(ref, ClosureReason.WITHDRAWN, HANDLER, note="By phone", **deps(world, settings=SETTINGS))
    clock.advance(timedelta(days=30))
    reopened = handling.reopen(ref, "They want it looked at after all", MANAGER, owner=SUPERVISOR_2.id, **deps(world))
    assert reopened.status is Status.INVESTIGATING and reopened.owner == SUPERVISOR_2.id


def test_what_happens_next_and_when(world) -> None:
    repo, clock = world
    ref = "CMP-2026-AAAAAA"
    due = T0 + timedelta(days=SETTINGS.final_response_days)
    step = complainant.next_step(repo.get(ref), SETTINGS)
    assert "acknowledge" in step.what and step.by == due
    handling.assess(ref, findings(), HANDLER, **deps(world, settings=SETTINGS))
    handling.start_investigation(ref, HANDLER, owner=HANDLER.id, **deps(world))
    assert complainant.next_step(repo.get(ref), SETTINGS).by == due
    handling.request_information(ref, "Which branch?", HANDLER, **deps(world))
    step = complainant.next_step(repo.get(ref), SETTINGS)
    assert "Which branch?" in step.what and step.by is None
    complainant.add_message(ref, TOKEN, "Leeds", **deps(world))
    decision.propose_response(ref, content(), HANDLER, **deps(world, settings=SETTINGS))
    case = decision.communicate_decision(ref, HANDLER, **deps(world, settings=SETTINGS))
    step = complainant.next_step(case, SETTINGS)
    assert "whether you accept our decision" in step.what and step.by == case.reply_due_at
    case = complainant.answer_decision(ref, TOKEN, accept=False, reason="No", **deps(world, settings=SETTINGS))
    assert "reviewing" in complainant.next_step(case, SETTINGS).what
    case = decision.conclude_review(ref, content(), MANAGER, **deps(world, settings=SETTINGS))
    step = complainant.next_step(case, SETTINGS)
    assert "final decision" in step.what and "the Ombudsman within six months" in step.what
    case = complainant.answer_decision(ref, TOKEN, accept=True, reason=None, **deps(world, settings=SETTINGS))
    step = complainant.next_step(case, SETTINGS)
    assert "reopen" in step.what and step.by == case.closure.reopen_until


def test_a_merged_complaint_says_where_it_went(world) -> None:
    merged = handling.link("CMP-2026-AAAAAA", "CMP-2026-BBBBBB", LinkRelation.DUPLICATE_OF, HANDLER,
                           **deps(world, settings=SETTINGS))
    step = complainant.next_step(merged, SETTINGS)
    assert "merged into it" in step.what and "CMP-2026-BBBBBB" in step.what and step.by is None


def test_handling_settings_are_read_from_the_environment_when_asked(monkeypatch) -> None:
    from amends.settings import get_settings

    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("EVENT_BUS_NAME", "b")
    for name, value in {"APPROVAL_THRESHOLD": "250.50", "DECISION_REPLY_DAYS": "21", "REOPEN_WINDOW_DAYS": "90",
                        "EXTERNAL_BODY": "the Pensions Ombudsman", "EXTERNAL_TIME_LIMIT": "three years"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    policy = get_settings().handling_policy()
    assert policy.approval_threshold == Decimal("250.50") and policy.reply_window == timedelta(days=21)
    assert policy.reopen_window == timedelta(days=90) and policy.external.body == "the Pensions Ombudsman"
    monkeypatch.setenv("DECISION_REPLY_DAYS", "soon")
    get_settings.cache_clear()
    with pytest.raises(RuntimeError, match="DECISION_REPLY_DAYS='soon' is not valid"):
        get_settings()
    get_settings.cache_clear()
