"""The DynamoDB adapter against DynamoDB Local (Amazon's own engine), with the table template.yaml declares."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from amends.adapters.dynamodb import DynamoCaseRepository
from amends.domain.errors import CaseNotFound, ConcurrentUpdate, InvalidCursor
from amends.domain.lifecycle import Action, Status
from amends.domain.model import Actor, Channel, Person, Priority, Submission, open_case
from amends.domain.reference import new_reference
from amends.services.common import with_optimistic_retry
from amends.services.ports import CaseQuery, ReferenceTaken

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STAFF = Actor(kind="staff", id="sup-1", roles=("supervisor",))


def submission(**kw: object) -> Submission:
    data = {"complainant": Person(name="Ada", email="ada@example.com"), "product_or_service": "Loan",
            "description": "Wrong interest", "remedy_sought": "unknown"}
    data.update(kw)
    return Submission(**data)  # type: ignore[arg-type]


def opened(at: datetime = T0, reference: str | None = None, **kw: object):
    return open_case(reference=reference or new_reference(at), access_token_hash="h" * 64, submission=submission(**kw),
                     channel=Channel.WEB, actor=Actor(kind="complainant", id="c"), received_at=at,
                     received_at_local=at)


@pytest.fixture
def repo(case_table) -> DynamoCaseRepository:
    client, table = case_table
    return DynamoCaseRepository(table, client)


def items_of(repo: DynamoCaseRepository, reference: str) -> list[dict]:
    return repo.client.query(TableName=repo.table, KeyConditionExpression="pk = :pk",
                             ExpressionAttributeValues={":pk": {"S": f"CASE#{reference}"}})["Items"]


def test_a_new_case_is_written_with_its_timeline_and_outbox_in_one_go(repo) -> None:
    change = opened()
    repo.record(change)
    record = repo.get_with_timeline(change.case.reference)
    assert record.case == change.case
    assert record.timeline == [change.entry]
    kinds = sorted(i["kind"]["S"] for i in items_of(repo, change.case.reference))
    assert kinds == ["case", "outbox", "text", "text", "timeline"]  # description and remedy sought: one part each
    outbox = next(i for i in items_of(repo, change.case.reference) if i["kind"]["S"] == "outbox")
    assert outbox["due_pk"]["S"] == "OUTBOX" and "expires_at" in outbox


def test_a_reference_is_never_given_twice(repo) -> None:
    first = opened()
    repo.record(first)
    with pytest.raises(ReferenceTaken):
        repo.record(opened(reference=first.case.reference))
    assert repo.get(first.case.reference) == first.case


def test_a_stale_write_is_refused_and_leaves_no_trace(repo) -> None:
    change = opened()
    repo.record(change)
    repo.record(change.case.apply(Action.ACKNOWLEDGE, STAFF, T0))
    stale = change.case.add_note("written on an old copy", STAFF, T0)
    with pytest.raises(ConcurrentUpdate):
        repo.record(stale)
    record = repo.get_with_timeline(change.case.reference)
    assert [e.seq for e in record.timeline] == [1, 2]
    assert record.case.status is Status.ACKNOWLEDGED
    assert sum(i["kind"]["S"] == "outbox" for i in items_of(repo, change.case.reference)) == 2


def test_a_write_lands_only_on_the_version_it_was_decided_on(repo) -> None:
    """The case item's own condition, not only the timeline entry's: a change decided on a version the table does not
    hold, whose entry's key is free (a copy ahead of the table, as one read elsewhere; a case the table never had), is
    refused and leaves no trace. Without the version condition it would land, with a gap in the timeline."""
    change = opened()
    repo.record(change)
    unrecorded = change.case.apply(Action.ACKNOWLEDGE, STAFF, T0)  # version 2, never written
    ahead = unrecorded.case.add_note("decided on version 2", STAFF, T0)  # expects 2, writes 3 and TL#3
    with pytest.raises(ConcurrentUpdate):
        repo.record(ahead)
    record = repo.get_with_timeline(change.case.reference)
    assert record.case == change.case and [e.seq for e in record.timeline] == [1]
    assert sum(i["kind"]["S"] == "outbox" for i in items_of(repo, change.case.reference)) == 1

    never_stored = opened()
    with pytest.raises(ConcurrentUpdate):
        repo.record(never_stored.case.add_note("on a case the table never had", STAFF, T0))
    with pytest.raises(CaseNotFound):
        repo.get(never_stored.case.reference)
    assert items_of(repo, never_stored.case.reference) == []


def test_racing_writers_both_land_in_order(repo) -> None:
    change = opened()
    repo.record(change)
    ref = change.case.reference
    barrier = threading.Barrier(4)

    def assign(owner: str) -> None:
        barrier.wait()
        with_optimistic_retry(lambda: repo.record(repo.get(ref).assign(owner, STAFF, T0)), attempts=10)

    threads = [threading.Thread(target=assign, args=(f"h-{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    record = repo.get_with_timeline(ref)
    assert [e.seq for e in record.timeline] == [1, 2, 3, 4, 5]
    assert record.case.version == 5


def test_unknown_reference(repo) -> None:
    with pytest.raises(CaseNotFound):
        repo.get("CMP-1999-000000")
    with pytest.raises(CaseNotFound):
        repo.get_with_timeline("CMP-1999-000000")


def test_queues_by_status_owner_priority_with_pages(repo) -> None:
    year = 2031  # a year of our own, so other tests' cases do not interfere
    base = datetime(year, 1, 1, tzinfo=UTC)
    refs = []
    for i in range(7):
        change = opened(at=base + timedelta(minutes=i), safety_concern=(i == 5))
        repo.record(change)
        case = change.case
        if i % 2 == 0:
            step = case.assign(f"owner-{year}", STAFF, base)
            repo.record(step)
            case = step.case
        refs.append(case.reference)

    by_status = repo.list_cases(CaseQuery(status=Status.RECEIVED, limit=100)).items
    mine = [c for c in by_status if c.reference in refs]
    assert mine[0].priority is Priority.URGENT  # the safety concern jumps the queue
    assert [c.reference for c in mine[1:]] == [r for i, r in enumerate(refs) if i != 5]  # then oldest first

    owned = repo.list_cases(CaseQuery(owner=f"owner-{year}", limit=100)).items
    assert {c.reference for c in owned} == {refs[0], refs[2], refs[4], refs[6]}
    owned_normal = repo.list_cases(CaseQuery(owner=f"owner-{year}", status=Status.RECEIVED,
                                             priority=Priority.NORMAL)).items
    assert len(owned_normal) == 4

    urgent = repo.list_cases(CaseQuery(priority=Priority.URGENT, limit=100)).items
    assert refs[5] in {c.reference for c in urgent} and all(c.priority is Priority.URGENT for c in urgent)

    seen, cursor = [], None
    while True:
        page = repo.list_cases(CaseQuery(owner=f"owner-{year}", limit=3, cursor=cursor))
        seen += [c.reference for c in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert sorted(seen) == sorted({refs[0], refs[2], refs[4], refs[6]})


def test_an_altered_cursor_is_refused(repo) -> None:
    for _ in range(3):
        repo.record(opened())
    page = repo.list_cases(CaseQuery(limit=1))
    assert page.next_cursor
    with pytest.raises(InvalidCursor):
        repo.list_cases(CaseQuery(limit=1, cursor=page.next_cursor[:-4] + "AAAA"))
    with pytest.raises(InvalidCursor):  # a cursor for another index
        repo.list_cases(CaseQuery(status=Status.RECEIVED, limit=1, cursor=page.next_cursor))


def test_pending_outbox_events_until_published(repo) -> None:
    change = opened(at=datetime(2020, 1, 1, tzinfo=UTC))
    repo.record(change)
    cutoff = datetime(2020, 1, 2, tzinfo=UTC).isoformat()
    pending = [e for e in repo.pending_events(cutoff, 100) if e.case_reference == change.case.reference]
    assert [e.event_id for e in pending] == [change.events[0].event_id]
    repo.mark_published(pending, T0)
    assert not [e for e in repo.pending_events(cutoff, 100) if e.case_reference == change.case.reference]
