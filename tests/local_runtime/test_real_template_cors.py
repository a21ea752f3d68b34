"""The real template with AllowedOrigins set (as `AMENDS_PARAM_AllowedOrigins=... make run` sets it), called over
HTTP with the headers a browser sends: preflights and actual requests, allowed and disallowed origins, and a
gateway-generated 401. Gateway-only CORS behaviour is in tests/gateway/test_cors.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from .conftest import ROOT

APP = "https://app.example"
STAFF_CONSOLE = "https://staff.example"
ORIGINS = f"{APP},{STAFF_CONSOLE}"


@pytest.fixture(scope="module")
def cors_stack(dynamodb_endpoint, tmp_path_factory) -> Iterator[object]:
    from amends_local.stack import LocalStack

    with LocalStack(ROOT, persist=False, api_port=0, parameters={"AllowedOrigins": ORIGINS},
                    dynamodb_endpoint=dynamodb_endpoint, state_dir=tmp_path_factory.mktemp("cors-state")) as stack:
        yield stack


@pytest.fixture(scope="module")
def api(cors_stack) -> str:
    return cors_stack.api_url


def _staff_token(api: str) -> str:
    return requests.post(f"{api}/_local/token", json={"role": "handler"}, timeout=10).json()["token"]


@pytest.mark.parametrize(("path", "method", "asked_headers"), [
    ("/complaints", "POST", "content-type,idempotency-key"),
    ("/complaints/CMP-2026-7K3F9Q", "GET", "x-access-token"),
    ("/staff/cases", "GET", "authorization"),
    ("/staff/cases/CMP-2026-7K3F9Q/owner", "PUT", "authorization,content-type"),
])
def test_a_browsers_preflight_is_answered_for_an_allowed_origin(api, path, method, asked_headers) -> None:
    response = requests.options(f"{api}{path}", timeout=10, headers={
        "Origin": STAFF_CONSOLE, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": asked_headers})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == STAFF_CONSOLE
    assert method in response.headers["Access-Control-Allow-Methods"].split(",")
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert set(asked_headers.split(",")) <= allowed
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "Origin" in response.headers["Vary"]


def test_an_actual_request_from_an_allowed_origin_can_be_read(api) -> None:
    filed = requests.post(f"{api}/complaints", timeout=10, headers={"Origin": APP, "Idempotency-Key": str(uuid.uuid4())},
                          json={"complainant": {"name": "Ada Lovelace", "email": "ada@example.com"},
                                "product_or_service": "Current account", "remedy_sought": "A refund",
                                "description": "I was charged twice for the same transfer on 2 November.",
                                "preferred_contact_channel": "email"})
    assert filed.status_code == 201, filed.text
    assert filed.headers["Access-Control-Allow-Origin"] == APP
    assert "Location" in filed.headers["Access-Control-Expose-Headers"].split(",")
    assert "Origin" in filed.headers["Vary"]
    listed = requests.get(f"{api}/staff/cases", timeout=10,
                          headers={"Origin": STAFF_CONSOLE, "Authorization": f"Bearer {_staff_token(api)}"})
    assert listed.status_code == 200
    assert listed.headers["Access-Control-Allow-Origin"] == STAFF_CONSOLE


def test_a_handlers_problem_carries_cors_headers_too(api) -> None:
    response = requests.get(f"{api}/complaints/CMP-2026-7K3F9Q", headers={"Origin": APP}, timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Access-Control-Allow-Origin"] == APP


def test_a_disallowed_origin_gets_no_cors_headers(api) -> None:
    preflight = requests.options(f"{api}/complaints", timeout=10, headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    actual = requests.get(f"{api}/process", headers={"Origin": "https://evil.example"}, timeout=10)
    assert (preflight.status_code, actual.status_code) == (204, 200)
    assert "Access-Control-Allow-Origin" not in preflight.headers  # so the browser stops there
    assert not {k for k in actual.headers if k.lower().startswith("access-control-")}, actual.headers


def test_a_gateway_401_on_a_staff_route_is_readable_by_the_allowed_origin(api) -> None:
    response = requests.get(f"{api}/staff/cases", headers={"Origin": STAFF_CONSOLE}, timeout=10)
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == STAFF_CONSOLE
    assert "WWW-Authenticate" in response.headers["Access-Control-Expose-Headers"].split(",")
    assert response.json()["type"] == "https://amends.dev/problems/unauthorized"
