"""Long texts in the case table, against DynamoDB Local (which enforces the 400 KB item and 4 MB transaction
limits as DynamoDB does): any accepted text, in any script, is read back byte for byte."""

from __future__ import annotations

import pytest
from amends.adapters import long_texts
from amends.adapters.dynamodb import DynamoCaseRepository, _to_item
from amends.domain.errors import ConcurrentUpdate
from amends.domain.model import Actor
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from .test_case_repository import STAFF, T0, items_of, opened

N = 100_000  # what must be accepted in any script (the limit may be higher)
COMPLAINANT = Actor(kind="complainant", id="c")
characters = st.characters(exclude_categories=["Cs"])  # all of Unicode but lone surrogates, which are refused
# Texts of any length up to the limit: a random start, a random unit repeated, a random end.
long_text = st.builds(
    lambda head, unit, times, tail: (head + unit * times)[: N - len(tail)] + tail,
    st.text(characters, max_size=50), st.text(characters, min_size=1, max_size=8),
    st.integers(min_value=0, max_value=N), st.text(characters, max_size=50),
)


@pytest.fixture
def repo(case_table) -> DynamoCaseRepository:
    client, table = case_table
    return DynamoCaseRepository(table, client)


def kinds(repo: DynamoCaseRepository, reference: str) -> list[str]:
    return sorted(i["kind"]["S"] for i in items_of(repo, reference))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(description=long_text, remedy=long_text, message=long_text, note=long_text)
@example(description="a" * N, remedy="é" * N, message="投" * N, note="😀" * N)
@example(description="😀" * N, remedy="𝔘" * N, message="a😀" * (N // 2), note="\u0000\r\n" + "ش" * (N - 3))
def test_any_text_up_to_the_limit_round_trips_byte_for_byte(repo, description, remedy, message, note) -> None:
    try:
        change = opened(description=description, remedy_sought=remedy)
    except ValueError:  # only blanks: refused by the model, never stored
        assume(False)
    assume(message.strip() and note.strip())
    repo.record(change)
    case = change.case
    for step in (lambda c: c.add_message(message.strip(), COMPLAINANT, T0),
                 lambda c: c.add_note(note.strip(), STAFF, T0)):
        later = step(case)
        repo.record(later)
        case = later.case

    stored = repo.get(case.reference)
    record = repo.get_with_timeline(case.reference)
    assert stored == record.case == case
    for got in (stored.submission, record.case.submission):
        assert got.description.encode() == change.case.submission.description.encode()
        assert got.remedy_sought.encode() == change.case.submission.remedy_sought.encode()
    assert [e.body.encode() if e.body else None for e in record.timeline] == [None, message.strip().encode(),
                                                                             note.strip().encode()]


def test_later_changes_write_a_small_case_item_and_leave_the_texts_alone(repo) -> None:
    change = opened(description="😀" * N, remedy_sought="投" * N)
    repo.record(change)
    before = {i["sk"]["S"]: i for i in items_of(repo, change.case.reference) if i["kind"]["S"] == "text"}
    assert sorted(before) == ["CASE#TEXT#description#000", "CASE#TEXT#description#001",
                              "CASE#TEXT#remedy_sought#000"]
    repo.record(change.case.assign("h-1", STAFF, T0))
    case_item = next(i for i in items_of(repo, change.case.reference) if i["kind"]["S"] == "case")
    assert len(str(case_item).encode()) < 3_000  # what the three indexes copy
    after = {i["sk"]["S"]: i for i in items_of(repo, change.case.reference) if i["kind"]["S"] == "text"}
    assert after == before
    assert repo.get(change.case.reference).submission == change.case.submission


def test_a_case_stored_with_its_texts_inline_is_read_and_moved_on_its_next_change(repo) -> None:
    """Cases written before texts moved out of the case item keep working."""
    change = opened(description="Legacy " * 1000)
    legacy = {"pk": f"CASE#{change.case.reference}", "sk": "CASE", "kind": "case", "version": 1,
              "received_pk": "CASES", "received_sk": f"{T0.isoformat()}#{change.case.reference}",
              "case": change.case.model_dump(mode="json")}
    repo.client.put_item(TableName=repo.table, Item=_to_item(legacy))
    assert repo.get(change.case.reference) == change.case

    repo.record(change.case.add_note("first change since", STAFF, T0))
    assert kinds(repo, change.case.reference) == ["case", "outbox", "text", "text", "text", "timeline"]
    case_item = next(i for i in items_of(repo, change.case.reference) if i["kind"]["S"] == "case")
    assert "description" not in case_item["case"]["M"]["submission"]["M"]
    assert repo.get(change.case.reference).submission == change.case.submission


def test_a_change_to_the_texts_themselves_is_written(repo) -> None:
    """No command changes the submission today; should one come (an amendment, an erasure), nothing is lost."""
    change = opened(description="😀" * N)
    repo.record(change)
    amended = change.case.submission.model_copy(update={"description": "Shorter now"})
    later = change.case.add_note("amended", STAFF, T0)
    later = later.model_copy(update={"case": later.case.model_copy(update={"submission": amended})})
    repo.record(later)
    assert repo.get(change.case.reference).submission.description == "Shorter now"
    with pytest.raises(ConcurrentUpdate):  # and a stale write is still refused as one
        repo.record(change.case.add_note("on an old copy", STAFF, T0))


def test_a_missing_part_is_an_error_not_a_shorter_text(repo) -> None:
    change = opened(description="😀" * N)
    repo.record(change)
    repo.client.delete_item(TableName=repo.table, Key={"pk": {"S": f"CASE#{change.case.reference}"},
                                                       "sk": {"S": "CASE#TEXT#description#001"}})
    with pytest.raises(long_texts.DamagedText):
        repo.get(change.case.reference)
