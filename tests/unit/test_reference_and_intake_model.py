from __future__ import annotations

from datetime import UTC, datetime

import pytest
from amends.api.auth import parse_groups
from amends.domain.model import Person, Representative
from amends.domain.reference import ALPHABET, is_well_formed, new_reference, normalise
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from .conftest import make_submission


def test_references_are_well_formed_and_unambiguous() -> None:
    refs = {new_reference(datetime(2026, 1, 1, tzinfo=UTC)) for _ in range(500)}
    assert len(refs) == 500
    for ref in refs:
        assert is_well_formed(ref) and ref.startswith("CMP-2026-")
        assert not set(ref[9:]) & set("ILOU")


@given(st.text(alphabet=ALPHABET, min_size=6, max_size=6))
def test_what_people_type_is_normalised(body: str) -> None:
    typed = " cmp-2026-" + body.lower().replace("0", "o").replace("1", "l") + " "
    assert normalise(typed) == f"CMP-2026-{body}"


def test_remedy_sought_is_required() -> None:
    with pytest.raises(ValidationError, match="remedy_sought"):
        make_submission(remedy_sought="")


def test_preferred_channel_must_be_reachable() -> None:
    with pytest.raises(ValidationError, match="preferred_contact_channel is 'phone' but the complainant has no phone"):
        make_submission(preferred_contact_channel="phone")
    rep = Representative(name="Bob", relationship="son", email="bob@example.com")
    ok = make_submission(complainant=Person(name="Ann"), representative=rep)
    assert ok.representative == rep


def test_groups_claim_in_every_shape_api_gateway_uses() -> None:
    assert parse_groups("handler,supervisor") == ["handler", "supervisor"]
    assert parse_groups("[handler supervisor]") == ["handler", "supervisor"]
    assert parse_groups('["handler"]') == ["handler"]
    assert parse_groups(["admin"]) == ["admin"]
    assert parse_groups(None) == []


def test_text_that_cannot_be_stored_is_refused_with_its_field() -> None:
    with pytest.raises(ValidationError, match="description contains characters that are not valid Unicode"):
        make_submission(description="broken \ud800 text")
