from __future__ import annotations

from datetime import UTC, datetime

import pytest
from amends.domain.model import Actor, Channel, Person, Submission, open_case

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def make_submission(**overrides: object) -> Submission:
    data: dict[str, object] = {
        "complainant": Person(name="Ada Lovelace", email="ada@example.com"),
        "product_or_service": "Current account",
        "description": "I was charged twice for the same transfer.",
        "remedy_sought": "Refund the duplicate charge",
    }
    data.update(overrides)
    return Submission(**data)  # type: ignore[arg-type]


@pytest.fixture
def opened():
    return open_case(
        reference="CMP-2026-7K3F9Q", access_token_hash="x" * 64, submission=make_submission(),
        channel=Channel.WEB, actor=Actor(kind="complainant", id="complainant"), received_at=T0,
        received_at_local=T0,
    )
