"""The approver's one answer to a proposed response (four eyes, ISO 10002 7.7): approve it, or return it to the
investigation with a reason, which is required; and the complainant's rejection of a decision needs a reason too."""

from __future__ import annotations

import pytest
from amends.domain.clock import FixedClock
from amends.domain.errors import InvalidReason, ReasonRequired
from amends.domain.lifecycle import Status
from amends.services import complainant, decision
from amends.services.common import hash_token
from amends.settings import Settings

from .cases import SUPERVISOR, T0, opening, walk
from .memory import MemoryCaseRepository

REF = "CMP-2026-7K3F9Q"
TOKEN = "complainant-token"


def stored(status: Status) -> MemoryCaseRepository:
    """A repository holding one case, the complainant's token opening it, taken along the main path to ``status``."""
    repo, change = MemoryCaseRepository(), opening(REF)
    repo.record(change.model_copy(update={"case": change.case.model_copy(
        update={"access_token_hash": hash_token(TOKEN)})}))
    for change in walk(status, repo.get(REF))[1]:
        repo.record(change)
    return repo


def test_an_approver_who_approves_lets_the_proposal_go_out() -> None:
    repo = stored(Status.RESPONSE_PROPOSED)
    case = decision.answer_proposal(REF.lower(), True, None, SUPERVISOR, repo=repo, clock=FixedClock(T0))
    assert case.status is Status.RESPONSE_APPROVED and repo.get(REF) == case


def test_an_approver_who_returns_the_proposal_sends_it_back_with_the_reason() -> None:
    repo = stored(Status.RESPONSE_PROPOSED)
    case = decision.answer_proposal(REF, False, "The amount is too low", SUPERVISOR, repo=repo, clock=FixedClock(T0))
    assert case.status is Status.INVESTIGATING and case.proposal is None
    assert repo.timelines[REF][-1].reason == "The amount is too low"


def test_returning_a_proposal_without_a_reason_is_refused() -> None:
    repo = stored(Status.RESPONSE_PROPOSED)
    with pytest.raises(ReasonRequired, match="^A reason is required to return proposal.$"):
        decision.answer_proposal(REF, False, None, SUPERVISOR, repo=repo, clock=FixedClock(T0))
    assert repo.get(REF).status is Status.RESPONSE_PROPOSED


def test_a_complainant_who_rejects_a_decision_without_saying_why_is_asked_why() -> None:
    repo = stored(Status.DECISION_COMMUNICATED)
    with pytest.raises(InvalidReason, match="Tell us why you do not accept the decision"):
        complainant.answer_decision(REF, TOKEN, accept=False, reason=None, repo=repo, clock=FixedClock(T0),
                                    settings=Settings(table_name="t", event_bus_name="b"))
    assert repo.get(REF).status is Status.DECISION_COMMUNICATED
