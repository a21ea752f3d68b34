"""Cases at any step of their handling, built with the domain's own commands, and the people who handle them."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from amends.domain import steps
from amends.domain.handling import (
    ClosureReason,
    ExternalRecourse,
    Findings,
    HandlingPolicy,
    Outcome,
    Remedy,
    RemedyKind,
    ResponseContent,
    Severity,
)
from amends.domain.lifecycle import Action, Status
from amends.domain.model import Actor, Case, Change, Channel, open_case
from amends.domain.priority import load_rules

from .conftest import T0, make_submission

POLICY = HandlingPolicy(
    approval_threshold=Decimal(500), reply_window=timedelta(days=28), reopen_window=timedelta(days=56),
    external=ExternalRecourse(body="the Financial Ombudsman Service", time_limit="six months",
                              details="It is free of charge."),
)
RULES = load_rules()

HANDLER = Actor(kind="staff", id="handler-1", roles=("handler",))
HANDLER_2 = Actor(kind="staff", id="handler-2", roles=("handler",))
SUPERVISOR = Actor(kind="staff", id="supervisor-1", roles=("supervisor",))
SUPERVISOR_2 = Actor(kind="staff", id="supervisor-2", roles=("supervisor",))
MANAGER = Actor(kind="staff", id="manager-1", roles=("manager",))
ADMIN = Actor(kind="staff", id="admin-1", roles=("admin",))
AUDITOR = Actor(kind="staff", id="auditor-1", roles=("auditor",))
COMPLAINANT = Actor(kind="complainant", id="complainant")
SYSTEM = Actor.system("case-lifecycle")


def findings(**overrides: object) -> Findings:
    data: dict[str, object] = {"severity": "medium", "safety_risk": False, "complexity": "simple", "impact": "medium",
                               "immediate_action": False, "category": "fees"}
    return Findings(**{**data, **overrides})  # type: ignore[arg-type]


def content(outcome: Outcome = Outcome.UPHELD, money: str | None = None, **overrides: object) -> ResponseContent:
    remedies = [Remedy(kind=RemedyKind.APOLOGY, description="We are sorry.")]
    if money:
        remedies.append(Remedy(kind=RemedyKind.MONETARY, amount=Decimal(money), currency="GBP"))
    data = {"outcome": outcome, "reasons": "We charged the fee twice.", "actions_taken": ["Refunded the fee"],
            "remedies": remedies if outcome is not Outcome.NOT_UPHELD else []}
    return ResponseContent(**{**data, **overrides})  # type: ignore[arg-type]


def opening(reference: str = "CMP-2026-7K3F9Q", at: datetime = T0, **submission: object) -> Change:
    return open_case(reference=reference, access_token_hash="x" * 64, submission=make_submission(**submission),
                     channel=Channel.WEB, actor=COMPLAINANT, received_at=at, received_at_local=at)


def new_case(reference: str = "CMP-2026-7K3F9Q", at: datetime = T0, **submission: object) -> Case:
    return opening(reference, at, **submission).case


# How to take a case one step on towards each status, on the main path (a proposal that needs no approval).
_PATH: list[tuple[Status, object]] = [
    (Status.ACKNOWLEDGED, lambda c, at: c.apply(Action.ACKNOWLEDGE, SYSTEM, at)),
    (Status.ASSESSED, lambda c, at: steps.assess(c, findings(), HANDLER, at, RULES)),
    (Status.INVESTIGATING, lambda c, at: steps.start_investigation(c, HANDLER, at, owner=HANDLER.id)),
    (Status.AWAITING_COMPLAINANT, lambda c, at: steps.request_information(c, "Which account?", HANDLER, at)),
    (Status.INVESTIGATING, lambda c, at: c.add_message("The current account.", COMPLAINANT, at)),
    (Status.RESPONSE_PROPOSED, lambda c, at: steps.propose_response(c, content(money="900"), HANDLER, at, POLICY)),
    (Status.RESPONSE_APPROVED, lambda c, at: steps.approve_response(c, SUPERVISOR, at)),
    (Status.DECISION_COMMUNICATED, lambda c, at: steps.communicate_decision(c, HANDLER, at, POLICY)),
    (Status.INTERNAL_REVIEW, lambda c, at: steps.reject_decision(c, "Too little", COMPLAINANT, at, POLICY)),
    (Status.DECISION_COMMUNICATED, lambda c, at: steps.conclude_review(c, content(money="950"), MANAGER, at, POLICY)),
    (Status.CLOSED, lambda c, at: steps.accept_decision(c, COMPLAINANT, at, POLICY)),
]


def walk(until: Status, case: Case | None = None, at: datetime = T0, *, occurrence: int = 1) -> tuple[Case, list[Change]]:
    """A case taken along the main path until it reaches ``until`` (its ``occurrence``-th time there)."""
    case = case or new_case(at=at)
    changes: list[Change] = []
    seen = 0
    for status, step in _PATH:
        if case.status is until:
            seen += 1
            if seen == occurrence:
                break
        change = step(case, at)  # type: ignore[operator]
        assert change.case.status is status, (status, change.case.status)
        changes.append(change)
        case = change.case
    assert case.status is until
    return case, changes


__all__ = ["POLICY", "RULES", "T0", "Severity", "findings", "content", "new_case", "walk"]


REVIEWER = Actor(kind="staff", id="manager-reviewer", roles=("manager",))  # took no part in the cases above


def take(case: Case, action: Action, at: datetime, reason: str | None = None, *, actor: Actor = HANDLER) -> Change:
    """``action`` taken on ``case`` with the command each step needs (what a test that walks statuses means by it):
    canned findings and content, the complainant asking for review, an uninvolved manager concluding it."""
    if action is Action.ASSESS:
        return steps.assess(case, findings(), actor, at, RULES)
    if action is Action.START_INVESTIGATION:
        return steps.start_investigation(case, actor, at, owner=case.owner or actor.id)
    if action is Action.PROPOSE_RESPONSE:
        return steps.propose_response(case, content(reasons=reason) if reason else content(), actor, at, POLICY)
    if action is Action.COMMUNICATE_DECISION:
        return steps.communicate_decision(case, actor, at, POLICY)
    if action is Action.REQUEST_REVIEW:
        return steps.reject_decision(case, reason or "I disagree", COMPLAINANT, at, POLICY)
    if action is Action.CONCLUDE_REVIEW:
        return steps.conclude_review(case, content(), REVIEWER, at, POLICY)
    if action is Action.CLOSE:
        return steps.close(case, ClosureReason(reason or "resolved"), actor, at, POLICY)
    if action is Action.REOPEN:
        return steps.reopen(case, reason or "reopened", Actor(kind="staff", id="supervisor-1", roles=("supervisor",)),
                            at, owner=case.owner or actor.id)
    return case.apply(action, actor, at, reason)
