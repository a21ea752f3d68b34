"""Free text from outside (amends.domain.text): text that is not valid Unicode is refused wherever it is, naming where."""

from __future__ import annotations

import pytest
from amends.domain.text import reject_unencodable_text


def test_valid_text_passes_unchanged_in_any_nesting() -> None:
    value = {"description": "Café ☕ 😀", "contacts": [{"name": "Zoë"}], "count": 3}
    assert reject_unencodable_text(value) is value


@pytest.mark.parametrize(("value", "named"), [
    ("lone \ud800", "text"),
    ({"description": "lone \ud800"}, "description"),
    ({"contacts": [{"name": "x"}, {"name": "\udfff"}]}, "contacts[1].name"),
    ({"lone \ud800": "value"}, "text"),
    ({"person": {"lone \ud800": "value"}}, "person"),
    (["fine", "lone \ud800"], "[1]"),
])
def test_text_that_is_not_valid_unicode_is_refused_naming_where(value: object, named: str) -> None:
    with pytest.raises(ValueError, match=r"^(.+) contains characters that are not valid Unicode$") as raised:
        reject_unencodable_text(value)
    assert str(raised.value) == f"{named} contains characters that are not valid Unicode"
