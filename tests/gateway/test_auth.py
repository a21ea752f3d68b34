"""Routes with the StaffCognito authorizer: the token checks of a Cognito user pool authorizer, and the claims as
a REST API hands them to the handler."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
import requests
from amends_local.auth import CLIENT_ID, ISSUER, LocalIdentityProvider, java_date

from tests.gateway.conftest import START


def _get(url: str, authorization: str | None) -> requests.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return requests.get(f"{url}/staff/cases/CMP-2026-7K3F9Q", headers=headers, timeout=10)


@pytest.mark.parametrize("prefix", ["Bearer ", "bearer ", ""])
def test_a_valid_token_reaches_the_handler_with_its_claims_as_strings(gateway, url, recorder, prefix) -> None:
    token = gateway.idp.issue_token("h-7", "hana@example.com", ["handler", "supervisor"])
    assert _get(url, prefix + token).status_code == 200

    function_id, event = recorder.last
    assert function_id == "StaffApiFunction"
    claims = event["requestContext"]["authorizer"]["claims"]
    assert all(isinstance(value, str) for value in claims.values())
    assert claims["sub"] == claims["cognito:username"] == "h-7"
    assert claims["email"] == "hana@example.com" and claims["email_verified"] == "true"
    assert claims["cognito:groups"] == "handler,supervisor"
    assert claims["token_use"] == "id" and claims["aud"] == CLIENT_ID and claims["iss"] == ISSUER
    assert claims["auth_time"] == str(int(START.timestamp()))
    # exp and iat arrive as Java dates, as in events/api_staff_*.json and on AWS
    assert claims["iat"] == "Mon Nov 23 09:30:00 UTC 2026"
    assert claims["exp"] == java_date(START + timedelta(hours=1)) == "Mon Nov 23 10:30:00 UTC 2026"


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz"])
def test_no_or_garbage_token_is_401(url, recorder, authorization) -> None:
    response = _get(url, authorization)
    assert response.status_code == 401
    assert response.json()["title"] == "Sign-in required"
    assert recorder.calls == []


def test_an_expired_token_is_401(gateway, url, recorder) -> None:
    token = gateway.idp.issue_token("h-1", "h@example.com", ["handler"], now=START - timedelta(hours=2))
    assert _get(url, f"Bearer {token}").status_code == 401
    assert recorder.calls == []


def test_expiry_follows_the_injected_clock(gateway, url, clock) -> None:
    token = gateway.idp.issue_token("h-1", "h@example.com", ["handler"], ttl=600)
    assert _get(url, f"Bearer {token}").status_code == 200
    clock.advance(timedelta(seconds=599))
    assert _get(url, f"Bearer {token}").status_code == 200
    clock.advance(timedelta(seconds=1))
    assert _get(url, f"Bearer {token}").status_code == 401


def test_a_token_signed_by_another_key_is_401(gateway, url, tmp_path, clock) -> None:
    stranger = LocalIdentityProvider(tmp_path / "elsewhere", clock=clock)
    assert stranger.kid != gateway.idp.kid
    assert _get(url, f"Bearer {stranger.issue_token('h-1', 'h@example.com', ['handler'])}").status_code == 401


def test_a_tampered_token_is_401(gateway, url) -> None:
    header, payload, signature = gateway.idp.issue_token("h-1", "h@example.com", ["handler"]).split(".")
    forged = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b'"handler"', b'"admin"')).decode()
    assert _get(url, f"Bearer {header}.{forged}.{signature}").status_code == 401


def _claims(**overrides) -> dict:
    at = int(START.timestamp())
    return {"sub": "h-1", "cognito:groups": ["admin"], "token_use": "id", "aud": CLIENT_ID, "iss": ISSUER,
            "auth_time": at, "iat": at, "exp": at + 3600} | overrides


@pytest.mark.parametrize("overrides", [
    {"aud": "another-app-client"},
    {"iss": "https://cognito-idp.eu-west-2.amazonaws.com/another-pool"},
    {"token_use": "access"},
    {"nbf": int(START.timestamp()) + 60},
    {"exp": int(START.timestamp())},
])
def test_a_token_of_the_right_key_but_wrong_claims_is_401(gateway, url, sign, overrides) -> None:
    assert _get(url, f"Bearer {sign(_claims())}").status_code == 200  # the baseline is accepted
    assert _get(url, f"Bearer {sign(_claims(**overrides))}").status_code == 401


def test_a_token_without_exp_is_401(gateway, url, sign) -> None:
    claims = _claims()
    del claims["exp"]
    assert _get(url, f"Bearer {sign(claims)}").status_code == 401


def test_public_routes_ignore_the_authorization_header(url, recorder) -> None:
    assert requests.get(f"{url}/process", headers={"Authorization": "Bearer junk"}, timeout=10).status_code == 200
    assert "authorizer" not in recorder.last[1]["requestContext"]


def test_the_key_is_made_once_and_shared(tmp_path) -> None:
    first = LocalIdentityProvider(tmp_path)
    second = LocalIdentityProvider(tmp_path)
    assert first.kid == second.kid
    assert second.verify(first.issue_token("a", "a@example.com", ["auditor"]))["cognito:groups"] == ["auditor"]
    assert (tmp_path / "local-idp" / "private-key.pem").stat().st_mode & 0o077 == 0
