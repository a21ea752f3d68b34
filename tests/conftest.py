"""Shared fixtures: one local stack per test session (DynamoDB Local, moto, the project's handlers), the same
emulators `make run` uses."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[1]


def dynamodb_local_required(why: object) -> None:
    """In CI (``CI`` set) the suite runs on DynamoDB Local, Amazon's own engine, or fails: moto's DynamoDB stands in
    for ``make run`` only, where its notice says so. A green run on moto would claim what was never tested."""
    if os.environ.get("CI"):
        pytest.exit(f"DynamoDB Local could not start ({why}), and CI is set: the tests must run on DynamoDB Local. "
                    f"Install a Java 17+ JDK and npm.", returncode=1)


@pytest.fixture(scope="session")
def stack() -> Iterator[object]:
    from amends_local.lambdas import runtime_environment
    from amends_local.stack import LocalStack

    with LocalStack(ROOT, persist=False, api_port=0, quiet=True, smtp_port=0) as running, \
            pytest.MonkeyPatch.context() as patch:
        if running.dynamodb_endpoint == running.moto_endpoint:
            dynamodb_local_required("the stack fell back to moto's DynamoDB")
        # Handlers run in processes of their own; tests that read or prepare the stack's data through the project's
        # adapters (amends.wiring) get the same settings and endpoints here, as the public API function has them.
        endpoints = runtime_environment(dynamodb_endpoint=running.dynamodb_endpoint, moto_endpoint=running.moto_endpoint)
        for name, value in {**running.functions.functions["PublicApiFunction"].environment, **endpoints}.items():
            patch.setenv(name, value)
        yield running


@pytest.fixture(scope="session")
def dynamodb(stack) -> object:
    return boto3.client("dynamodb", endpoint_url=stack.dynamodb_endpoint, region_name="eu-west-2")


@pytest.fixture(scope="session")
def case_table(stack, dynamodb) -> tuple[object, str]:
    """A table declared exactly like CasesTable, but with nothing consuming its stream, so adapter tests see only
    their own writes (the stack's table is worked on by the lifecycle in the background)."""
    props = stack.template.tables()["CasesTable"].properties
    name = f"amends-adapter-tests-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name, KeySchema=props["KeySchema"], AttributeDefinitions=props["AttributeDefinitions"],
        BillingMode=props["BillingMode"], GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
    )
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})
    return dynamodb, name


@pytest.fixture(autouse=True)
def _fresh_adapters() -> Iterator[None]:
    """Adapters are cached per execution environment; tests start from clean ones."""
    from amends import wiring

    wiring.reset()
    yield
    wiring.reset()


def sent_emails(to: str) -> list[object]:
    """Emails moto's SES accepted for ``to`` (moto's server runs in this process, so its backend is readable)."""
    import email

    from moto.ses.models import ses_backends

    backend = ses_backends["123456789012"]["eu-west-2"]
    found = []
    for message in list(backend.sent_messages):
        raw = getattr(message, "raw_data", None)
        if raw and any(to in d for d in message.destinations):
            found.append(email.message_from_string(raw))
    return found


def archived_events(stack: object, reference: str) -> list[dict[str, Any]]:
    """Every event the case's bus received for the case ``reference``, as its archive (CaseEventsArchive) kept them:
    its own events only, whatever other tests published."""
    from moto.events.models import events_backends

    backend = events_backends["123456789012"]["eu-west-2"]
    events = []
    for archive in list(backend.archives.values()):
        for event in list(archive.events):
            detail = event.get("detail")
            detail = json.loads(detail) if isinstance(detail, str) else detail
            if detail.get("case_reference") == reference:
                events.append(detail)
    return events
