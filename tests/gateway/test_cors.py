"""CORS at the gateway: preflights reach the functions without the authorizer, and the Api's gateway responses carry
CORS headers when AllowedOrigins is set, none when it is not. (The handlers' side, over the whole stack:
tests/local_runtime/test_real_template_cors.py.)"""

from __future__ import annotations

import pytest
import requests
from amends_local.template import Template, TemplateError

from tests.gateway.conftest import ROOT, StubTemplate

APP = "https://app.example"
STAFF_CONSOLE = "https://staff.example"
ORIGINS = f"{APP},{STAFF_CONSOLE}"


def _stub(parameters: dict[str, str]) -> StubTemplate:
    template = Template(ROOT / "template.yaml", parameters=parameters)
    return StubTemplate(list(template.api_routes()), template.gateway_responses(), template.raw)


def _cors_headers(response: requests.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-") or k.lower() == "vary"}


# ---- the template and the gateway (a recorder stands in for the handlers) ----------------------------------------
def test_a_preflight_to_a_staff_route_reaches_its_function_without_a_token(start_gateway, recorder) -> None:
    url = start_gateway(_stub({"AllowedOrigins": ORIGINS})).url
    response = requests.options(f"{url}/staff/cases/CMP-2026-7K3F9Q/notes", timeout=10, headers={
        "Origin": APP, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert response.status_code == 200  # the recorder's answer: the function was invoked
    function_id, event = recorder.last
    assert function_id == "StaffApiFunction" and event["httpMethod"] == "OPTIONS"
    assert "authorizer" not in event["requestContext"]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/staff/cases", 401),  # the authorizer's answer
    ("GET", "/no/such/route", 404),
    ("DELETE", "/complaints", 404),
])
def test_gateway_responses_carry_cors_headers_when_origins_are_set(start_gateway, method, path, status) -> None:
    url = start_gateway(_stub({"AllowedOrigins": ORIGINS})).url
    response = requests.request(method, f"{url}{path}", headers={"Origin": STAFF_CONSOLE}, timeout=10)
    assert response.status_code == status
    assert _cors_headers(response) == {"Access-Control-Allow-Origin": STAFF_CONSOLE, "Vary": "Origin",
                                       "Access-Control-Expose-Headers": "Retry-After,WWW-Authenticate"}
    assert response.headers["Content-Type"] == "application/problem+json"


def test_gateway_responses_without_an_origin_carry_no_allow_origin(start_gateway) -> None:
    url = start_gateway(_stub({"AllowedOrigins": ORIGINS})).url
    response = requests.get(f"{url}/staff/cases", timeout=10)
    assert "Access-Control-Allow-Origin" not in response.headers  # nothing to reflect: left out, as on AWS
    assert response.headers["Vary"] == "Origin"


def test_without_origins_gateway_responses_carry_no_cors_headers_at_all(url) -> None:
    response = requests.get(f"{url}/staff/cases", headers={"Origin": APP}, timeout=10)
    assert response.status_code == 401
    assert _cors_headers(response) == {}


@pytest.mark.parametrize("value", ["https://app.example/", "*", "https://a.example, https://b.example", "app.example"])
def test_allowed_origins_must_be_plain_origins(value) -> None:
    with pytest.raises(TemplateError, match="AllowedOrigins"):
        Template(ROOT / "template.yaml", parameters={"AllowedOrigins": value})
