"""The local-only routes: clock, tokens, JWKS, OpenAPI and Swagger UI (offline)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import jwt
import pytest
import requests
from amends_local.gateway import parse_duration

from tests.gateway.conftest import START


def test_the_clock_can_be_read_and_moved(url, clock) -> None:
    assert datetime.fromisoformat(requests.get(f"{url}/_local/clock", timeout=10).json()["now"]) == START

    moved = requests.post(f"{url}/_local/clock", json={"advance_seconds": 3600}, timeout=10)
    assert moved.status_code == 200
    assert datetime.fromisoformat(moved.json()["now"]) == START + timedelta(hours=1) == clock.now()

    moved = requests.post(f"{url}/_local/clock", json={"advance": "P3DT2H"}, timeout=10)
    assert datetime.fromisoformat(moved.json()["now"]) == START + timedelta(days=3, hours=3)


@pytest.mark.parametrize("body", [{"advance": "P1M"}, {"advance": "three days"}, {"advance_seconds": -5}, {}])
def test_a_bad_clock_request_is_400_problem_json(url, clock, body) -> None:
    response = requests.post(f"{url}/_local/clock", json=body, timeout=10)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["detail"]
    assert clock.now() == START


@pytest.mark.parametrize(("text", "expected"), [
    ("P3D", timedelta(days=3)), ("PT90M", timedelta(minutes=90)), ("P1W", timedelta(weeks=1)),
    ("P1DT12H30M5S", timedelta(days=1, hours=12, minutes=30, seconds=5)), ("PT0.5S", timedelta(seconds=0.5)),
    ("p2d", timedelta(days=2)),
])
def test_iso_8601_durations(text, expected) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P", "PT", "P1Y", "P1M", "P3DT", "3D", "", "PT1H2D"])
def test_durations_that_are_refused(text) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_a_token_over_http_opens_staff_routes(url, recorder) -> None:
    issued = requests.post(f"{url}/_local/token", json={"role": "supervisor", "sub": "s-1"}, timeout=10)
    assert issued.status_code == 200
    token = issued.json()["token"]
    staff = requests.get(f"{url}/staff/cases", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert staff.status_code == 200
    claims = recorder.last[1]["requestContext"]["authorizer"]["claims"]
    assert (claims["sub"], claims["cognito:groups"], claims["email"]) == ("s-1", "supervisor", "s-1@example.com")


@pytest.mark.parametrize("body", [{"role": "nope"}, {}, {"groups": ["handler", "root"]}, {"role": "handler", "ttl": 0}])
def test_a_bad_token_request_is_400_and_names_the_roles(url, body) -> None:
    response = requests.post(f"{url}/_local/token", json=body, timeout=10)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "handler, supervisor, manager, auditor, admin" in response.json()["detail"]


def test_the_jwks_verifies_the_tokens(gateway, url) -> None:
    jwks = requests.get(f"{url}/local-idp/.well-known/jwks.json", timeout=10).json()
    (key,) = jwks["keys"]
    assert key["kid"] == gateway.idp.kid and key["alg"] == "RS256" and "d" not in key  # public only
    token = gateway.idp.issue_token("a-1", "a@example.com", ["auditor"], now=datetime.now().astimezone())
    signing_key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, signing_key.key, algorithms=["RS256"], audience=gateway.idp.client_id)
    assert claims["sub"] == "a-1"


def test_swagger_ui_is_served_without_any_cdn(url) -> None:
    page = requests.get(f"{url}/docs", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "SwaggerUIBundle" in page.text and "/openapi.json" in page.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/docs/") for s in sources), sources
    for source, kind, marker in [(s, "javascript", b"SwaggerUIBundle") for s in sources if s.endswith(".js")] + \
                                [(s, "css", b".swagger-ui") for s in sources if s.endswith(".css")]:
        asset = requests.get(f"{url}{source}", timeout=10)
        assert asset.status_code == 200 and kind in asset.headers["Content-Type"]
        assert marker in asset.content


def test_the_committed_openapi_document_is_served(url) -> None:
    spec = requests.get(f"{url}/openapi.json", timeout=10)
    assert spec.status_code == 200
    assert "/complaints" in spec.json()["paths"]


def test_a_missing_openapi_document_says_how_to_make_it(start_gateway, stub_template, tmp_path) -> None:
    url = start_gateway(stub_template, openapi_file=tmp_path / "missing.json").url
    response = requests.get(f"{url}/openapi.json", timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "make docs" in response.json()["detail"]


def test_the_mail_the_stack_sent_is_listed_and_served(url, tmp_path) -> None:
    from email.message import EmailMessage

    from amends_local.sent_mail import sent_mail_dir

    assert requests.get(f"{url}/_local/mail", timeout=10).json()["messages"] == []
    folder = sent_mail_dir(tmp_path)
    folder.mkdir(parents=True)
    for name, subject in (("20260701T090000-acknowledgement-a.eml", "first"), ("20260701T100000-staff_reply-b.eml",
                                                                                "second")):
        message = EmailMessage()
        message["To"], message["Subject"], message["Message-ID"] = "ada@example.com", subject, f"<{name}@x>"
        message.set_content("Hello")
        (folder / name).write_bytes(message.as_bytes())
    listed = requests.get(f"{url}/_local/mail", timeout=10).json()
    assert [m["subject"] for m in listed["messages"]] == ["second", "first"]  # newest first
    one = requests.get(f"{url}/_local/mail", params={"name": listed["messages"][1]["name"]}, timeout=10)
    assert one.headers["Content-Type"] == "message/rfc822" and b"Subject: first" in one.content
    for bad in ("../clock.json", "nope.eml", "x.txt"):
        refused = requests.get(f"{url}/_local/mail", params={"name": bad}, timeout=10)
        assert refused.status_code == 404 and refused.headers["Content-Type"] == "application/problem+json"
