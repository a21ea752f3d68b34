"""Fixtures for the local runtime's own tests: DynamoDB Local once per session, a fixture stack per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from amends_local.dynamodb_local import DynamoDBLocal, DynamoDBLocalUnavailable

from tests.conftest import dynamodb_local_required

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str | None]:
    """DynamoDB Local, started once; None (the stack then uses moto's DynamoDB) where it cannot run."""
    engine = DynamoDBLocal(ROOT / ".local", persist=False)
    try:
        endpoint = engine.start()
    except DynamoDBLocalUnavailable as why:
        dynamodb_local_required(why)
        print(f"DynamoDB Local unavailable, testing on moto's DynamoDB: {why}")
        yield None
        return
    try:
        yield endpoint
    finally:
        engine.stop()


def running_stack(root, dynamodb_endpoint, state_dir):
    """A stack of ``root``'s template on the session's DynamoDB Local, without a gateway."""
    from amends_local.stack import LocalStack

    return LocalStack(root, persist=False, api_port=None, dynamodb_endpoint=dynamodb_endpoint, state_dir=state_dir)


@pytest.fixture(scope="module")
def fixture_stack(dynamodb_endpoint, tmp_path_factory):
    with running_stack(FIXTURES, dynamodb_endpoint, tmp_path_factory.mktemp("state")) as stack:
        yield stack


def aws(stack, service: str):
    endpoint = stack.dynamodb_endpoint if service in ("dynamodb", "dynamodbstreams") else stack.moto_endpoint
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="eu-west-2",
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )
