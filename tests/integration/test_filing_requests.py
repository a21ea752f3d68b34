"""Complaints filed with an Idempotency-Key, against DynamoDB Local: the key is written with the case, all or
nothing, and a key that filed a case refuses a second one until it expires."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from amends.adapters.dynamodb import DynamoCaseRepository
from amends.adapters.filing_requests import DynamoFilingRequests
from amends.domain.errors import CaseNotFound
from amends.services.ports import FilingRequest, ReferenceTaken, RequestAlreadyFiled

from .test_case_repository import T0, opened


@pytest.fixture(scope="module")
def idempotency_table(stack, dynamodb) -> str:
    """A table declared exactly like IdempotencyTable (only the adapter's writes in it)."""
    props = stack.template.tables()["IdempotencyTable"].properties
    name = f"amends-filing-tests-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(TableName=name, KeySchema=props["KeySchema"],
                          AttributeDefinitions=props["AttributeDefinitions"], BillingMode=props["BillingMode"])
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})
    return name


@pytest.fixture
def repo(case_table) -> DynamoCaseRepository:
    client, table = case_table
    return DynamoCaseRepository(table, client)


@pytest.fixture
def requests(repo, idempotency_table) -> DynamoFilingRequests:
    return DynamoFilingRequests(repo, idempotency_table)


def request_for(reference: str, key_hash: str | None = None, *, token: str = "token-1",
                expires_at: datetime = T0 + timedelta(hours=24)) -> FilingRequest:
    return FilingRequest(key_hash=key_hash or uuid.uuid4().hex, request_hash="r" * 64, reference=reference,
                         access_token=token, expires_at=expires_at)


def test_the_case_and_the_key_are_written_together(requests, repo) -> None:
    change = opened()
    request = request_for(change.case.reference)
    requests.record_case(change, request, T0)
    assert repo.get(change.case.reference) == change.case
    assert requests.get(request.key_hash, T0) == request


def test_a_key_that_filed_a_case_refuses_a_second_and_says_what_it_filed(requests, repo) -> None:
    first, second = opened(), opened()
    request = request_for(first.case.reference)
    requests.record_case(first, request, T0)
    with pytest.raises(RequestAlreadyFiled) as refused:
        requests.record_case(second, request_for(second.case.reference, request.key_hash, token="token-2"), T0)
    assert refused.value.filed == request  # the first filing's reference and token, not the second's
    with pytest.raises(CaseNotFound):
        repo.get(second.case.reference)  # nothing of the second was written


def test_a_taken_reference_writes_no_key(requests, repo) -> None:
    first = opened()
    repo.record(first)
    again = opened(reference=first.case.reference)
    request = request_for(first.case.reference)
    with pytest.raises(ReferenceTaken):
        requests.record_case(again, request, T0)
    assert requests.get(request.key_hash, T0) is None  # the key is free for the retry with a new reference


def test_an_expired_key_files_again(requests, repo) -> None:
    first, second = opened(), opened()
    old = request_for(first.case.reference, expires_at=T0 + timedelta(hours=24))
    requests.record_case(first, old, T0)
    later = T0 + timedelta(hours=24)
    assert requests.get(old.key_hash, later) is None  # expired, though DynamoDB has not deleted it yet
    new = request_for(second.case.reference, old.key_hash, token="token-2", expires_at=later + timedelta(hours=24))
    requests.record_case(second, new, later)
    assert repo.get(second.case.reference).reference == second.case.reference
    assert requests.get(old.key_hash, later) == new


def test_the_key_expires_by_the_tables_time_to_live(stack, requests, dynamodb, idempotency_table) -> None:
    """Beside Powertools' records, under the time-to-live attribute the template gives the table, so DynamoDB
    deletes the key when it expires."""
    ttl = stack.template.tables()["IdempotencyTable"].properties["TimeToLiveSpecification"]["AttributeName"]
    change = opened()
    request = request_for(change.case.reference, expires_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    requests.record_case(change, request, T0)
    stored = dynamodb.get_item(TableName=idempotency_table, Key={"id": {"S": f"filed#{request.key_hash}"}})["Item"]
    assert stored[ttl] == {"N": str(int(request.expires_at.timestamp()))}
