"""What the handling values say and carry (amends.domain.handling), word for word.

Pinned down here: a response as the complainant reads it (outcome words, what we have done, what we offer, each
remedy's wording), a first decision's and a final decision's recourse paragraphs, and what the timeline and the
bus carry of a response, a proposal, a decision, a closure, a question and a link: the facts, never the free texts.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from amends.domain import steps
from amends.domain.handling import ClosureReason, LinkRelation, Outcome, Remedy, RemedyKind
from amends.domain.lifecycle import Status

from .cases import HANDLER, POLICY, SUPERVISOR, T0, content, new_case, walk

OFFER = content(Outcome.PARTLY_UPHELD, actions_taken=["Refunded the fee", "Trained the team"], remedies=[
    Remedy(kind=RemedyKind.MONETARY, amount=Decimal("1234.5"), currency="GBP", description="for the trouble"),
    Remedy(kind=RemedyKind.CORRECTIVE_ACTION),
    Remedy(kind=RemedyKind.APOLOGY, description="We are sorry."),
    Remedy(kind=RemedyKind.MONETARY, amount=Decimal("10"), currency="GBP"),
])

RECOURSE = "You can also refer your complaint to the Financial Ombudsman Service, within six months of this "


def test_a_response_reads_outcome_reasons_what_we_did_and_what_we_offer() -> None:
    assert OFFER.render() == (
        "Outcome: we uphold part of your complaint.\n\nWe charged the fee twice.\n\n"
        "What we have done:\n- Refunded the fee\n- Trained the team\n\n"
        "What we offer:\n- a payment of 1,234.50 GBP: for the trouble\n- corrective action\n- apology: We are sorry.\n"
        "- a payment of 10.00 GBP")


def test_a_response_with_nothing_done_or_offered_is_its_outcome_and_reasons() -> None:
    bare = content(Outcome.NOT_UPHELD, actions_taken=[])
    assert bare.render() == "Outcome: we do not uphold your complaint.\n\nWe charged the fee twice."


def test_the_bus_carries_a_responses_outcome_remedy_kinds_and_money_by_currency() -> None:
    assert OFFER.money() == {"GBP": Decimal("1244.5")}
    assert OFFER.summary() == {"outcome": "partly_upheld",
                               "remedies": ["monetary", "corrective_action", "apology", "monetary"],
                               "money": {"GBP": "1244.5"}}


def test_a_first_decision_offers_the_review_by_a_date_then_the_ombudsman() -> None:
    decision = walk(Status.DECISION_COMMUNICATED)[0].decision
    assert decision.render().endswith(
        "\n\nIf you do not accept this decision, tell us why by 30 March 2026 and someone who took no part in it "
        f"will review your complaint.\n{RECOURSE}decision. It is free of charge.")
    assert decision.summary() == {"outcome": "upheld", "remedies": ["apology", "monetary"], "money": {"GBP": "900"},
                                  "final": False, "decided_by": HANDLER.id}


def test_a_final_decision_offers_only_the_ombudsman() -> None:
    decision = walk(Status.DECISION_COMMUNICATED, occurrence=2)[0].decision
    assert decision.render().endswith(
        f"- a payment of 950.00 GBP\n\n{RECOURSE}final decision. It is free of charge.")
    assert decision.summary()["final"] is True


def test_a_proposal_carries_who_proposed_and_approved_it_and_why_it_needed_to_be() -> None:
    approved = walk(Status.RESPONSE_APPROVED)[1][-1]
    assert approved.entry.after["proposal"] == {
        "outcome": "upheld", "remedies": ["apology", "monetary"], "money": {"GBP": "900"},
        "proposed_by": HANDLER.id, "needs_approval": True,
        "approval_reasons": ["it offers 900.00 GBP, above the approval threshold of 500"],
        "approved_by": SUPERVISOR.id}


def test_the_timeline_carries_a_closure_and_a_question_without_their_texts() -> None:
    asked = steps.request_information(walk(Status.INVESTIGATING)[0], "Which account?", HANDLER, T0)
    assert asked.entry.after["information_request"] == {"asked_by": HANDLER.id, "asked_at": "2026-03-02T09:30:00Z"}
    closed = steps.close(asked.case, ClosureReason.WITHDRAWN, HANDLER, T0 + timedelta(hours=1), POLICY,
                         note="They withdrew by phone")
    assert closed.entry.after["closure"] == {
        "reason": "withdrawn", "closed_by": HANDLER.id, "closed_at": "2026-03-02T10:30:00Z",
        "reopen_until": "2026-04-27T10:30:00Z", "merged_into": None}


def test_the_timeline_carries_a_link_in_full() -> None:
    mine, _ = steps.link(new_case("CMP-2026-AAAAAA"), new_case("CMP-2026-BBBBBB"), LinkRelation.RELATED, HANDLER,
                         T0, POLICY)
    assert mine.entry.after["links"] == [{"reference": "CMP-2026-BBBBBB", "relation": "related",
                                          "linked_by": HANDLER.id, "linked_at": "2026-03-02T09:30:00Z"}]
