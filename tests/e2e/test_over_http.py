"""The whole stack end to end, through its real protocol: HTTP to the local API Gateway, which drives the
handlers, the table stream, the event bus, the state machine and the notification queue."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.conftest import archived_events, sent_emails

pytestmark = pytest.mark.e2e

COMPLAINT = {
    "complainant": {"name": "Grace Hopper", "email": "grace@example.com"},
    "product_or_service": "Credit card",
    "description": "My card was declined abroad although I had told the bank I was travelling.",
    "remedy_sought": "An apology and a refund of the call charges",
    "preferred_contact_channel": "email",
}


@pytest.fixture(scope="module")
def url(stack) -> str:
    return stack.api_url


def token(url: str, role: str, sub: str | None = None) -> str:
    response = requests.post(f"{url}/_local/token", json={"role": role, "sub": sub or f"{role}-1"}, timeout=10)
    response.raise_for_status()
    return response.json()["token"]


def file(url: str, **headers: str) -> requests.Response:
    return requests.post(f"{url}/complaints", json=COMPLAINT, timeout=10,
                         headers={"Idempotency-Key": str(uuid.uuid4()), **headers})


def test_a_complaint_from_filing_to_acknowledgement(url, stack) -> None:
    address = f"grace-{uuid.uuid4().hex[:12]}@example.com"  # this complaint's own: no other test mails it
    filed = requests.post(f"{url}/complaints", timeout=10, headers={"Idempotency-Key": str(uuid.uuid4())},
                          json={**COMPLAINT, "complainant": {"name": "Grace Hopper", "email": address}})
    assert filed.status_code == 201, filed.text
    body = filed.json()
    assert body["status_url"] == f"{url}/complaints/{body['reference']}"
    assert filed.headers["Location"] == body["status_url"]

    stack.wait_until_idle(timeout=60)  # stream → bus → state machine → lifecycle → bus → queue → email

    status = requests.get(body["status_url"], headers={"X-Access-Token": body["access_token"]}, timeout=10)
    assert status.status_code == 200
    view = status.json()
    assert view["status"] == "acknowledged"
    assert [t["what"] for t in view["timeline"]] == ["Complaint received", "Acknowledgement sent"]

    # Its own acknowledgement: the event on the bus (the AcknowledgementSentRule's pattern matches it), and one email
    # to its complainant, about this complaint. Mail and events of other tests' complaints count for nothing here.
    events = archived_events(stack, body["reference"])
    assert [e["data"]["action"] for e in events if e["type"] == "CaseStatusChanged"] == ["acknowledge"]
    [mail] = sent_emails(address)
    assert mail["To"] == address and mail["Subject"] == f"We have received your complaint {body['reference']}"
    # Plain text beside HTML: the text part.
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert body["reference"] in text and "final response by" in text

    detail = requests.get(f"{url}/staff/cases/{body['reference']}", timeout=10,
                          headers={"Authorization": f"Bearer {token(url, 'auditor')}"}).json()
    ack = detail["timeline"][1]
    assert ack["action"] == "acknowledge" and ack["actor"]["kind"] == "system"
    assert ack["before"] == {"status": "received"} and ack["after"] == {"status": "acknowledged"}


def test_idempotent_over_http(url) -> None:
    key = str(uuid.uuid4())
    first, second = file(url, **{"Idempotency-Key": key}), file(url, **{"Idempotency-Key": key})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()


def test_staff_routes_need_a_token_and_the_right_role(url) -> None:
    reference = file(url).json()["reference"]
    anonymous = requests.get(f"{url}/staff/cases", timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["Content-Type"].startswith("application/problem+json")
    assert "Authorization" in anonymous.json()["detail"]

    forged = requests.get(f"{url}/staff/cases", headers={"Authorization": "Bearer not.a.jwt"}, timeout=10)
    assert forged.status_code == 401

    handler = {"Authorization": f"Bearer {token(url, 'handler', 'h-7')}"}
    listed = requests.get(f"{url}/staff/cases", params={"status": "received", "limit": 5}, headers=handler, timeout=10)
    assert listed.status_code == 200
    other = requests.put(f"{url}/staff/cases/{reference}/owner", json={"owner": "someone-else"}, headers=handler,
                         timeout=10)
    assert other.status_code == 403
    self_assign = requests.put(f"{url}/staff/cases/{reference}/owner", json={"owner": "h-7"}, headers=handler,
                               timeout=10)
    assert self_assign.status_code == 200 and self_assign.json()["owner"] == "h-7"


def test_errors_are_problem_json_everywhere(url) -> None:
    cases = [
        requests.post(f"{url}/complaints", data="{not json", headers={"content-type": "application/json"}, timeout=10),
        requests.post(f"{url}/complaints", json={"description": "x"}, timeout=10),
        requests.get(f"{url}/complaints/CMP-2026-ZZZZZZ", timeout=10),
        requests.get(f"{url}/no/such/route", timeout=10),
        requests.delete(f"{url}/complaints", timeout=10),
    ]
    assert [r.status_code for r in cases] == [400, 422, 404, 404, 404]
    for response in cases:
        assert response.headers["Content-Type"].startswith("application/problem+json")
        problem = response.json()
        assert {"type", "title", "status", "detail"} <= problem.keys()
        assert problem["status"] == response.status_code


def test_openapi_and_swagger_are_served(url) -> None:
    spec = requests.get(f"{url}/openapi.json", timeout=10)
    assert spec.status_code == 200 and "/complaints" in spec.json()["paths"]
    docs = requests.get(f"{url}/docs", timeout=10)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
