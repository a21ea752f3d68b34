"""Shared fixtures: one local stack per test session (DynamoDB Local, moto, the project's handlers), the same
emulators `make run` uses."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def stack() -> Iterator[object]:
    from amends_local.stack import LocalStack

    with LocalStack(ROOT, persist=False, api_port=0) as running:
        yield running


@pytest.fixture(scope="session")
def dynamodb(stack) -> object:
    return boto3.client("dynamodb", endpoint_url=stack.dynamodb_endpoint, region_name="eu-west-2")


@pytest.fixture(scope="session")
def case_table(stack, dynamodb) -> tuple[object, str]:
    return dynamodb, os.environ["TABLE_NAME"]


@pytest.fixture(autouse=True)
def _fresh_adapters() -> Iterator[None]:
    """Adapters are cached per execution environment; tests start from clean ones."""
    from amends import wiring

    wiring.reset()
    yield
    wiring.reset()
