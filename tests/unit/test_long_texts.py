"""Long texts: accepted up to the limit in any script, split into parts under a byte budget and put back byte for
byte."""

from __future__ import annotations

import pytest
from amends.adapters import long_texts
from amends.adapters.dynamodb import case_items, timeline_items
from amends.api.schemas.public import MessageRequest
from amends.api.schemas.staff import NoteRequest
from amends.domain import steps
from amends.domain.handling import ClosureReason
from amends.domain.lifecycle import Action
from amends.domain.model import LONG_TEXT_MAX_CHARS, Actor, Channel, open_case
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from .cases import POLICY, SUPERVISOR
from .conftest import T0, make_submission

ITEM_LIMIT = 400 * 1024  # DynamoDB: UTF-8 bytes of attribute names and values
N = 100_000  # what must be accepted in any script
LONGEST = {"latin": "a" * N, "cjk": "投" * N, "emoji": "😀" * N}  # 1, 3 and 4 bytes a character
STAFF = Actor(kind="staff", id="s-1", roles=("handler",))
# Any Unicode a request can carry: everything but lone surrogates (the model refuses those).
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)


def item_bytes(item: dict) -> int:
    """An item's size as DynamoDB counts it, for items of strings, numbers and maps of them."""
    def size(value: object) -> int:
        if isinstance(value, str):
            return len(value.encode("utf-8"))
        if isinstance(value, dict):
            return 3 + sum(len(k.encode()) + size(v) + 1 for k, v in value.items())
        if isinstance(value, list):
            return 3 + sum(size(v) + 1 for v in value)
        if isinstance(value, bool) or value is None:
            return 1
        return 21  # a number, at most
    return sum(len(k.encode()) + size(v) for k, v in item.items())


@given(any_text, st.integers(min_value=4, max_value=40))
@example("😀" * 10, 5)  # a budget that is not a multiple of the character width
@example("a投😀é" * 7, 4)
def test_parts_fit_the_budget_and_join_to_the_text(text: str, budget: int) -> None:
    parts = long_texts.split_utf8(text, budget)
    assert "".join(parts) == text
    assert all(0 < len(p.encode("utf-8")) <= budget for p in parts)


def test_a_budget_below_one_character_is_refused() -> None:
    with pytest.raises(ValueError):
        long_texts.split_utf8("x", 3)


@pytest.mark.parametrize("script", sorted(LONGEST))
def test_the_longest_texts_in_any_script_fit_in_items(script: str) -> None:
    text = LONGEST[script]
    case = _case(description=text, remedy_sought=text)
    item, parts = case_items(case)
    assert "description" not in item["case"]["submission"] and "remedy_sought" not in item["case"]["submission"]
    assert item_bytes(item) < 2_000  # the case item, copied into three indexes, stays small
    assert all(item_bytes(p) < ITEM_LIMIT for p in parts)
    assert item["texts"] == {"description": len(parts) // 2, "remedy_sought": len(parts) // 2}
    entry_item, *body_parts = timeline_items(case.reference, case.add_note(text, STAFF, T0).entry)
    assert "body" not in entry_item["entry"]
    assert all(item_bytes(p) < ITEM_LIMIT for p in [entry_item, *body_parts])
    # a 400 KB emoji text goes in two parts, a 100 KB Latin one in one
    assert len(body_parts) == {"latin": 1, "cjk": 1, "emoji": 2}[script]


@given(st.dictionaries(st.sampled_from(["description", "body"]), any_text.filter(bool), min_size=1))
def test_parts_in_any_order_assemble_to_the_texts(texts: dict[str, str]) -> None:
    owner = {"pk": "CASE#R", "sk": "CASE", **long_texts.manifest(texts)}
    parts = long_texts.part_items("CASE#R", "CASE", texts)
    assert long_texts.assemble(owner, list(reversed(parts))) == texts


def test_a_missing_or_altered_part_is_never_served() -> None:
    texts = {"description": "😀" * 200_000}
    owner = {"pk": "CASE#R", "sk": "CASE", **long_texts.manifest(texts)}
    parts = long_texts.part_items("CASE#R", "CASE", texts)
    assert len(parts) == 3
    with pytest.raises(long_texts.DamagedText, match="lacks parts"):
        long_texts.assemble(owner, parts[:2])
    with pytest.raises(long_texts.DamagedText, match="digest"):
        long_texts.assemble(owner, [parts[0], {**parts[1], "text": parts[1]["text"][:-1] + "😃"}, parts[2]])
    leftover = {**parts[0], "sk": parts[0]["sk"].replace("#000", "#007")}  # from an earlier, longer text
    assert long_texts.assemble(owner, [*parts, leftover]) == texts



@pytest.mark.parametrize("unit", ["a", "投", "😀", "e\u0301"])
def test_texts_of_100_000_characters_are_accepted_in_any_script(unit: str) -> None:
    text = (unit * 100_000)[:100_000]
    submission = make_submission(description=text, remedy_sought=text)
    assert submission.description == text and submission.remedy_sought == text
    assert MessageRequest(message=text).message == text and NoteRequest(body=text).body == text


@pytest.mark.parametrize("field", ["description", "remedy_sought"])
def test_one_character_more_is_refused_with_the_field_named(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        make_submission(**{field: "x" * (LONG_TEXT_MAX_CHARS + 1)})
    with pytest.raises(ValidationError, match="message"):
        MessageRequest(message="x" * (LONG_TEXT_MAX_CHARS + 1))


def test_no_command_changes_the_submission(opened) -> None:
    """The storage writes the submission's long texts once, at receipt; a command that changed them would need
    the adapter to write them again (it does, but only after a refused write: see DynamoCaseRepository.record)."""
    case = opened.case
    for step in (lambda c: c.apply(Action.ACKNOWLEDGE, Actor.system("lifecycle"), T0),
                 lambda c: c.assign("h-1", STAFF, T0, "why"), lambda c: c.add_note("note", STAFF, T0),
                 lambda c: c.add_message("more", Actor(kind="complainant", id="c"), T0),
                 lambda c: steps.close(c, ClosureReason.WITHDRAWN, STAFF, T0, POLICY),
                 lambda c: steps.reopen(c, "x", SUPERVISOR, T0)):
        case = step(case).case
    assert case.version == 7 and case.submission == opened.case.submission


def _case(**submission: object):
    return open_case(reference="CMP-2026-7K3F9Q", access_token_hash="x" * 64, submission=make_submission(**submission),
                     channel=Channel.WEB, actor=Actor(kind="complainant", id="c"), received_at=T0,
                     received_at_local=T0).case
