"""Case references as people read and type them: six Crockford symbols after the prefix and the year of receipt,
and what a typed reference is normalised to (only the random part has its look-alike letters mapped)."""

from __future__ import annotations

from datetime import UTC, datetime

from amends.domain.reference import ALPHABET, is_well_formed, new_reference, normalise


def test_a_new_reference_is_prefix_year_and_six_symbols() -> None:
    ref = new_reference(datetime(987, 5, 1, tzinfo=UTC), prefix="TST")
    prefix, year, body = ref.split("-")
    assert (prefix, year, len(body)) == ("TST", "0987", 6)
    assert set(body) <= set(ALPHABET)
    default = new_reference(datetime(2026, 1, 1, tzinfo=UTC))
    assert default[:9] == "CMP-2026-" and len(default) == len("CMP-2026-7K3F9Q")


def test_typed_references_are_normalised_exactly() -> None:
    assert normalise(" cmp-2026-7k3f9q ") == "CMP-2026-7K3F9Q"
    assert normalise("CMP-2026 - 7K3 F9Q") == "CMP-2026-7K3F9Q"
    assert normalise("cmp-2026-oil0ol") == "CMP-2026-011001"
    assert normalise("CMP-2026-OIL0OL") == "CMP-2026-011001"


def test_only_the_random_part_has_look_alikes_mapped() -> None:
    assert normalise("col-2026-lio") == "COL-2026-110"  # the prefix keeps its letters
    assert normalise("a-b-oo") == "A-B-00"  # the last dash starts the random part


def test_a_bare_body_is_normalised_without_a_dash() -> None:
    assert normalise("7k3 f9q") == "7K3F9Q"
    assert normalise(" oil ") == "011"


def test_well_formed_references() -> None:
    assert is_well_formed("CMP-2026-7K3F9Q")
    assert not is_well_formed("CMP-2026-7K3F9O")  # O is not in the alphabet
    assert not is_well_formed("CMP-2026-7K3F9")
