"""Handling a complaint end to end in the DynamoDB adapter, against DynamoDB Local: every step's case comes back as
written, long reasons live in text parts, and a merge writes both cases or neither."""

from __future__ import annotations

from decimal import Decimal

import pytest
from amends.adapters.dynamodb import DynamoCaseRepository
from amends.domain import steps
from amends.domain.errors import ConcurrentUpdate
from amends.domain.handling import LinkRelation
from amends.domain.lifecycle import Status
from amends.domain.reference import new_reference

from tests.unit.cases import HANDLER, POLICY, SUPERVISOR, T0, content, opening, walk


@pytest.fixture
def repo(case_table) -> DynamoCaseRepository:
    client, table = case_table
    return DynamoCaseRepository(table, client)


def stored(repo: DynamoCaseRepository, reference: str) -> list[dict]:
    return repo.client.query(TableName=repo.table, KeyConditionExpression="pk = :pk",
                             ExpressionAttributeValues={":pk": {"S": f"CASE#{reference}"}})["Items"]


def opened_in(repo: DynamoCaseRepository):
    change = opening(new_reference(T0))
    repo.record(change)
    return change.case


def test_every_step_of_the_lifecycle_is_stored_and_read_back_as_written(repo) -> None:
    case = opened_in(repo)
    _, changes = walk(Status.CLOSED, case)
    for change in changes:
        repo.record(change)
        assert repo.get(case.reference) == change.case
    record = repo.get_with_timeline(case.reference)
    assert record.timeline[1:] == [c.entry for c in changes]
    assert record.case.closure_reason.value == "upheld_monetary_remedy"
    assert record.case.decision.money() == {"GBP": Decimal("950")}


def test_long_reasons_live_in_text_parts_and_amounts_keep_their_pence(repo) -> None:
    case = walk(Status.INVESTIGATING, opened_in(repo))[1]
    for change in case:
        repo.record(change)
    investigating = case[-1].case
    reasons = "投" * 100_000  # 300 KB: could not sit in the case item beside the rest
    proposed = steps.propose_response(investigating, content(money="12.50", reasons=reasons), HANDLER, T0, POLICY)
    repo.record(proposed)
    back = repo.get(investigating.reference)
    assert back == proposed.case and back.proposal.reasons == reasons
    assert back.proposal.remedies[1].amount == Decimal("12.50")
    item = next(i for i in stored(repo, investigating.reference) if i["sk"]["S"] == "CASE")
    assert "proposal_reasons" in item["texts"]["M"] and len(str(item)) < 20_000
    returned = steps.return_proposal(back, "Check the dates", SUPERVISOR, T0)
    repo.record(returned)  # the reasons leave the case (they stay in the proposal's timeline entry)
    assert repo.get(investigating.reference) == returned.case
    assert repo.get_with_timeline(investigating.reference).timeline[-2].body.count("投") == 100_000


def test_a_merge_writes_both_cases_their_entries_and_events_in_one_transaction(repo) -> None:
    duplicate, original = opened_in(repo), opened_in(repo)
    closed, kept = steps.link(duplicate, original, LinkRelation.DUPLICATE_OF, HANDLER, T0, POLICY)
    repo.record_all([closed, kept])
    assert repo.get(duplicate.reference) == closed.case and repo.get(original.reference) == kept.case
    assert repo.get_with_timeline(original.reference).timeline[-1].body.startswith(f"Complaint {duplicate.reference}")
    events = {ref: sorted(i["sk"]["S"].split("#")[1] for i in stored(repo, ref) if i["kind"]["S"] == "outbox")
              for ref in (duplicate.reference, original.reference)}
    assert events == {duplicate.reference: ["00000001", "00000002", "00000002"],  # CaseStatusChanged + CaseMerged
                      original.reference: ["00000001", "00000002"]}


def test_a_merge_with_a_stale_copy_of_either_case_changes_neither(repo) -> None:
    for stale_side in (0, 1):
        duplicate, original = opened_in(repo), opened_in(repo)
        closed, kept = steps.link(duplicate, original, LinkRelation.DUPLICATE_OF, HANDLER, T0, POLICY)
        moved = (duplicate, original)[stale_side]
        repo.record(moved.add_note("someone else got there first", SUPERVISOR, T0))
        with pytest.raises(ConcurrentUpdate) as refused:
            repo.record_all([closed, kept])
        assert refused.value.reference == moved.reference
        assert repo.get(duplicate.reference).version == 1 + (stale_side == 0)
        assert repo.get(original.reference).version == 1 + (stale_side == 1)
        assert repo.get(duplicate.reference).status is Status.RECEIVED
        assert not repo.get(original.reference).links
        kinds = [i["kind"]["S"] for ref in (duplicate.reference, original.reference) for i in stored(repo, ref)]
        assert kinds.count("timeline") == 3 and kinds.count("outbox") == 3  # two openings and the note


def test_one_transaction_takes_one_change_per_case(repo) -> None:
    case = opened_in(repo)
    with pytest.raises(ValueError, match="one change per case"):
        repo.record_all([case.add_note("a", HANDLER, T0), case.add_note("b", HANDLER, T0)])
