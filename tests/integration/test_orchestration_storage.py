"""Timers and the lifecycle's task token in the case table, against DynamoDB Local with the table template.yaml
declares: written with the change, found through the by-due index, claimed and settled once; the token kept per
generation; status changes read back from the timeline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from amends.adapters.dynamodb import DynamoCaseRepository, timer_shard
from amends.adapters.executions import DynamoExecutionTokens, DynamoStatusHistory
from amends.adapters.timers import DynamoTimerStore
from amends.domain.errors import ConcurrentUpdate
from amends.domain.lifecycle import Action
from amends.domain.model import Actor, Channel, Person, Submission, open_case
from amends.domain.reference import new_reference
from amends.domain.timers import REPLY_WINDOW, Timer, with_timers
from amends.services.orchestration import StatusChange, Superseded, Waiting
from amends.services.timers import DueTimer

from tests.unit.cases import take

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STAFF = Actor(kind="staff", id="handler-1", roles=("handler",))


@pytest.fixture(scope="module")
def table(stack, dynamodb) -> str:
    """A table of its own, declared like CasesTable: the by-due index holds only this module's timers."""
    props = stack.template.tables()["CasesTable"].properties
    name = f"amends-orchestration-tests-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(TableName=name, KeySchema=props["KeySchema"], AttributeDefinitions=props["AttributeDefinitions"],
                          BillingMode=props["BillingMode"], GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"])
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})
    return name


@pytest.fixture
def repo(table, dynamodb) -> DynamoCaseRepository:
    return DynamoCaseRepository(table, dynamodb)


def opened(at: datetime = T0):
    sub = Submission(complainant=Person(name="Ada", email="ada@example.com"), product_or_service="Loan",
                     description="Wrong interest", remedy_sought="unknown")
    return open_case(reference=new_reference(at), access_token_hash="h" * 64, submission=sub, channel=Channel.WEB,
                     actor=Actor(kind="complainant", id="c"), received_at=at, received_at_local=at)


def record(repo, change):
    repo.record(change)
    return change.case


def test_timers_are_written_with_the_change_that_sets_or_clears_them(repo, dynamodb, table) -> None:
    case = record(repo, opened())
    due = T0 + timedelta(days=28)
    case = record(repo, with_timers(case.apply(Action.ACKNOWLEDGE, STAFF, T0), Timer.at(REPLY_WINDOW, due)))
    key = {"pk": {"S": f"CASE#{case.reference}"}, "sk": {"S": f"TIMER#{REPLY_WINDOW}"}}
    item = dynamodb.get_item(TableName=table, Key=key)["Item"]
    assert item["due_pk"]["S"] == timer_shard(case.reference)
    assert item["due_sk"]["S"] == f"2026-03-30T09:00:00.000000Z#{case.reference}#{REPLY_WINDOW}"
    assert item["set_by_version"]["N"] == "2"

    # A change whose transaction fails writes no timer either.
    stale = take(case, Action.ASSESS, T0).model_copy(update={"expected_version": 1})
    with pytest.raises(ConcurrentUpdate):
        repo.record(with_timers(stale, Timer.cleared(REPLY_WINDOW)))
    assert "due_pk" in dynamodb.get_item(TableName=table, Key=key)["Item"]

    record(repo, with_timers(take(case, Action.ASSESS, T0), Timer.cleared(REPLY_WINDOW)))
    cleared = dynamodb.get_item(TableName=table, Key=key)["Item"]
    assert "due_pk" not in cleared and "due_sk" not in cleared and cleared["set_by_version"]["N"] == "3"
    assert repo.get(case.reference).version == 3  # the timer is beside the case, not in it


def test_the_sweep_finds_due_timers_in_every_shard_in_due_order_and_settles_each_once(repo, table, dynamodb) -> None:
    store = DynamoTimerStore(table, dynamodb)
    cases = [record(repo, opened()) for _ in range(12)]
    assert len({timer_shard(c.reference) for c in cases}) > 1  # spread over the shards (4 of them)
    for i, case in enumerate(cases):
        due = T0 + timedelta(days=1, minutes=i)
        record(repo, with_timers(case.apply(Action.ACKNOWLEDGE, STAFF, T0), Timer.at(REPLY_WINDOW, due)))
    now = T0 + timedelta(days=1, minutes=5)
    due = store.due(now, limit=100)
    assert [t.reference for t in due] == [c.reference for c in cases[:6]]  # due at or before now, earliest first
    assert store.due(now, limit=2) == due[:2]

    first = due[0]
    assert store.claim(first, now, now + timedelta(minutes=5))
    assert not store.claim(first, now, now + timedelta(minutes=5))  # another run cannot take it meanwhile
    assert store.claim(first, now + timedelta(minutes=6), now + timedelta(minutes=11))  # after the claim ran out
    store.settle(first, now, "fired")
    assert first not in store.due(now, limit=100)
    assert not store.claim(first, now + timedelta(hours=1), now + timedelta(hours=2))
    moved = DueTimer(first.reference, first.name, first.due_at - timedelta(seconds=1))
    assert not store.claim(moved, now, now)  # a timer since moved or cleared is not the one read


def test_the_token_is_kept_per_generation_and_forgotten_only_if_unchanged(table, dynamodb) -> None:
    tokens = DynamoExecutionTokens(table, dynamodb)
    ref = new_reference(T0)
    assert tokens.get(ref) is None
    first = Waiting(token="t1", version=2, generation=1, execution="e1")
    assert tokens.keep(ref, first) is None and tokens.get(ref) == first
    second = Waiting(token="t2", version=5, generation=1, execution="e1")
    assert tokens.keep(ref, second) == first
    tokens.forget(ref, "t1")  # the execution waits on t2 now: nothing to forget
    assert tokens.get(ref) == second
    newer = Waiting(token="t3", version=9, generation=9, execution="e9")
    assert tokens.keep(ref, newer) == second
    tokens.forget(ref, "t3")
    assert tokens.get(ref) is None
    with pytest.raises(Superseded):  # the item remembers the generation after its token is forgotten
        tokens.keep(ref, Waiting(token="t4", version=6, generation=1, execution="e1"))


def test_status_changes_are_read_from_the_timeline_skipping_other_entries_and_texts(repo, table, dynamodb) -> None:
    history = DynamoStatusHistory(table, dynamodb)
    case = record(repo, opened())
    case = record(repo, case.apply(Action.ACKNOWLEDGE, STAFF, T0))  # v2
    case = record(repo, case.add_note("x" * 300_000, STAFF, T0))  # v3: no status; its body is text parts
    case = record(repo, case.assign("handler-2", STAFF, T0))  # v4: no status
    case = record(repo, take(case, Action.ASSESS, T0))  # v5
    assert history.next_status_change(case.reference, 0) == StatusChange(1, "received")
    assert history.next_status_change(case.reference, 2) == StatusChange(5, "assessed")
    assert history.next_status_change(case.reference, 5) is None
