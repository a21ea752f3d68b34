"""A complaint filed with an Idempotency-Key is filed once: the same request again (its first answer lost) gets the
same case and access token, another request with the key is refused, and the key is forgotten after 24 hours. The
fake keeps the adapter's promises (amends.adapters.filing_requests): the key and the case are written together or
not at all, and an unexpired key refuses a second case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from amends.domain.clock import FixedClock
from amends.domain.errors import RequestKeyReused
from amends.domain.model import Change, Channel
from amends.services import intake
from amends.services.common import hash_token, token_matches
from amends.services.ports import FilingRequest, RequestAlreadyFiled
from amends.settings import Settings

from .cases import HANDLER
from .conftest import make_submission
from .memory import MemoryCaseRepository

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SETTINGS = Settings(table_name="t", event_bus_name="b")


class MemoryFilingRequests:
    def __init__(self, repo: MemoryCaseRepository) -> None:
        self.repo = repo
        self.keys: dict[str, FilingRequest] = {}

    def record_case(self, change: Change, request: FilingRequest, now: datetime) -> None:
        held = self.keys.get(request.key_hash)
        if held is not None and held.expires_at > now:
            raise RequestAlreadyFiled(held)
        self.repo.record(change)  # ReferenceTaken: nothing written, the key included
        self.keys[request.key_hash] = request


@pytest.fixture
def repo() -> MemoryCaseRepository:
    return MemoryCaseRepository()


@pytest.fixture
def requests(repo) -> MemoryFilingRequests:
    return MemoryFilingRequests(repo)


def file(repo, requests, key: str | None = "key-1", at: datetime = T0, channel: Channel = Channel.WEB,
         **submission: object) -> intake.FiledComplaint:
    return intake.file_complaint(make_submission(**submission), channel, repo=repo, clock=FixedClock(at),
                                 settings=SETTINGS, once=intake.Once(key, requests) if key else None)


def test_the_same_request_again_gets_the_same_case_and_token(repo, requests) -> None:
    first = file(repo, requests)
    again = file(repo, requests, at=T0 + timedelta(minutes=5))
    assert len(repo.cases) == 1
    assert again.case == repo.cases[first.case.reference]
    assert again.access_token == first.access_token
    assert token_matches(again.access_token, again.case.access_token_hash)
    assert again.response_due_by == first.response_due_by


def test_the_answer_again_is_the_case_as_it_is_now(repo, requests) -> None:
    first = file(repo, requests)
    repo.record(first.case.add_note("called back", HANDLER, T0 + timedelta(minutes=1)))
    assert file(repo, requests).case.version == first.case.version + 1


def test_another_request_with_the_key_is_refused_and_files_nothing(repo, requests) -> None:
    first = file(repo, requests)
    with pytest.raises(RequestKeyReused) as refused:
        file(repo, requests, description="Something else entirely")
    assert refused.value.reference == first.case.reference
    assert str(refused.value).startswith("This Idempotency-Key was already used with a different request body.")
    assert "resend exactly the same body" in str(refused.value)
    assert first.case.reference not in str(refused.value)  # the message does not name the case
    assert len(repo.cases) == 1


def test_the_same_submission_by_another_channel_is_another_request(repo, requests) -> None:
    file(repo, requests, channel=Channel.WEB)
    with pytest.raises(RequestKeyReused):
        file(repo, requests, channel=Channel.PHONE)


def test_the_key_is_remembered_for_24_hours(repo, requests) -> None:
    first = file(repo, requests)
    within = file(repo, requests, at=T0 + timedelta(hours=24) - timedelta(seconds=1))
    after = file(repo, requests, at=T0 + timedelta(hours=24))
    assert within.case.reference == first.case.reference
    assert after.case.reference != first.case.reference
    assert len(repo.cases) == 2


def test_the_key_remembers_the_reference_the_case_got_after_a_redraw(repo, requests) -> None:
    repo.races = 1  # another complaint takes the first reference drawn
    first = file(repo, requests)
    held = requests.keys[hash_token("key-1")]
    assert held.reference == first.case.reference
    assert held.access_token == first.access_token
    assert held.request_hash == intake.request_hash(make_submission(), Channel.WEB)
    assert held.expires_at == T0 + timedelta(hours=24)
    assert file(repo, requests).case.reference == first.case.reference


def test_different_keys_file_different_cases(repo, requests) -> None:
    assert file(repo, requests, key="a").case.reference != file(repo, requests, key="b").case.reference
    assert len(repo.cases) == 2


def test_the_key_is_stored_hashed(repo, requests) -> None:
    file(repo, requests, key="a-secret-key")
    assert "a-secret-key" not in requests.keys
    assert list(requests.keys) == [hash_token("a-secret-key")]


def test_the_request_hash_is_the_whole_request_in_any_field_order() -> None:
    one = make_submission(description="Charged twice", remedy_sought="refund")
    same = make_submission(remedy_sought="refund", description="Charged twice")
    assert intake.request_hash(one, Channel.WEB) == intake.request_hash(same, Channel.WEB)
    assert intake.request_hash(one, Channel.WEB) != intake.request_hash(make_submission(description="x"), Channel.WEB)
    assert len(intake.request_hash(one, Channel.WEB)) == 64


def test_the_request_hash_is_stable_across_releases() -> None:
    """It is stored with the key for 24 hours: a release that hashed the same request differently would refuse an
    honest retry as another request. Its formula is the SHA-256 of the request as sorted, compact JSON."""
    assert intake.request_hash(make_submission(), Channel.WEB) == \
        "e6bbebbbe076edff5834f55da3a98a4bbb79e9c811d4ccdb4c5aed6f50bbc4b3"
