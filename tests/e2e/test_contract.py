"""The API answers exactly as its OpenAPI document says: schemathesis generates requests from the committed
document (valid and invalid ones), sends them over HTTP to the local stack (staff routes with a staff token), and
checks every answer: no 5xx, a documented status, a documented content type, a body that fits the documented
schema.

Not checked: that every request the document calls invalid is refused (negative_data_rejection). It is not yet
true: request bodies are validated by pydantic in lax mode, which takes 0 or "true" for a boolean
(``safety_concern: 0`` files a complaint); strict booleans belong in the request models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from amends.api.openapi import STAFF
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]

# Per operation and generation mode (valid, invalid); with the examples and coverage phases this sends about
# 800 requests in all. Raise it locally to dig deeper: the API has nothing to hide.
MAX_EXAMPLES = 20
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# Loaded when the module is collected, from the committed document (the one the stack serves at /openapi.json):
# schemathesis' lazy loader (from_fixture) relies on a pytest internal that pytest 9.2 no longer has.
schema = schemathesis.openapi.from_path(ROOT / "infra" / "openapi.json", config=schemathesis.Config.from_dict({
    "seed": 10002,  # the same requests every run: a failure here is a regression, not bad luck
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES},
    "phases": {"stateful": {"enabled": False}},
}))


@pytest.fixture(scope="module")
def api(stack) -> Iterator[str]:
    yield stack.api_url
    stack.wait_until_idle(timeout=120)  # the complaints filed here are acknowledged before other tests run


@pytest.fixture(scope="module")
def staff_token(api) -> str:
    issued = requests.post(f"{api}/_local/token", json={"role": "supervisor", "sub": "contract-supervisor"},
                           timeout=10)
    issued.raise_for_status()
    return issued.json()["token"]


@schema.parametrize()
def test_the_api_answers_as_documented(case, api, staff_token) -> None:
    staff = any(STAFF in requirement for requirement in case.operation.definition.raw.get("security", []))
    headers = {"Authorization": f"Bearer {staff_token}"} if staff else None
    case.call_and_validate(base_url=api, headers=headers, checks=CHECKS)
