"""POST /staff/cases/{reference}/replies over HTTP on the local stack: a threaded email through the delivery guard,
on the timeline, on the complainant's status page; refused (problem+json) for an auditor, an unknown case and an
undeliverable address."""

from __future__ import annotations

import email
import email.policy
import uuid
from email.message import EmailMessage

import pytest
import requests

from .test_email_end_to_end import smtp_send, token
from .test_reply_end_to_end import sent_to

pytestmark = pytest.mark.e2e


def emailed_complaint(stack, sender: str) -> tuple[str, EmailMessage]:
    complaint = EmailMessage()
    complaint["From"], complaint["To"], complaint["Subject"] = sender, "complaints@example.com", "Card blocked"
    complaint["Message-ID"] = f"<{uuid.uuid4()}@example.org>"
    complaint.set_content("My card was blocked for no reason.")
    smtp_send(stack, complaint)
    stack.wait_until_idle(timeout=60)
    [ack] = sent_to(stack.api_url, sender)
    return ack["subject"].rsplit("[", 1)[1].rstrip("]"), complaint


def test_a_staff_reply_is_threaded_recorded_and_shown_to_the_complainant(stack) -> None:
    url = stack.api_url
    auth = {"Authorization": f"Bearer {token(url)}"}
    sender = f"kim-{uuid.uuid4().hex[:8]}@example.org"
    reference, complaint = emailed_complaint(stack, sender)

    response = requests.post(f"{url}/staff/cases/{reference}/replies", headers=auth, timeout=10,
                             json={"text": "We have unblocked your card. Does it work now?"})
    assert response.status_code == 201, response.text
    sent = response.json()
    assert sent["to"] == sender and sent["in_reply_to"] == complaint["Message-ID"] and reference in sent["subject"]

    [listed] = [m for m in sent_to(url, sender) if m["message_id"] == sent["message_id"]]
    raw = requests.get(f"{url}/_local/mail", params={"name": listed["name"]}, timeout=10).content
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["In-Reply-To"] == complaint["Message-ID"] and message["Auto-Submitted"] is None
    assert message["Reply-To"].startswith("complaints+")

    case = requests.get(f"{url}/staff/cases/{reference}", headers=auth, timeout=10).json()
    [entry] = [e for e in case["timeline"] if e["action"] == "staff_reply"]
    assert entry["body"] == "We have unblocked your card. Does it work now?" and sent["message_id"] in entry["reason"]
    assert entry["seq"] == sent["seq"]

    # The status page (GET /complaints/{reference}) shows what complainant_view makes of the visible entries; an
    # emailed complaint's access token is never sent, so the view is built here from the stored case.
    from amends import wiring
    from amends.api.schemas.public import NextStepView, complainant_view

    record = wiring.case_repository().get_with_timeline(reference)
    page = complainant_view(record.case, record.timeline, record.case.received_at,
                            NextStepView(what="-", by=None))
    assert [(i.what, i.message) for i in page.timeline if i.message == entry["body"]] == [
        ("We wrote to you", "We have unblocked your card. Does it work now?")]


def test_a_staff_reply_is_refused_with_a_problem_when_it_cannot_be_sent(stack) -> None:
    url = stack.api_url
    auth = {"Authorization": f"Bearer {token(url)}"}
    sender = f"gone-{uuid.uuid4().hex[:8]}@example.org"
    reference, _ = emailed_complaint(stack, sender)
    from amends import wiring
    from amends.settings import get_clock

    wiring.sent_mail().mark_undeliverable(sender, "bounced (5.1.1)", get_clock().now())
    refused = requests.post(f"{url}/staff/cases/{reference}/replies", headers=auth, json={"text": "Hello"}, timeout=10)
    assert refused.status_code == 409 and refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/reply-not-sent") and "undeliverable" in refused.json()["detail"]
    auditor = {"Authorization": f"Bearer {token(url, 'auditor')}"}
    assert requests.post(f"{url}/staff/cases/{reference}/replies", headers=auditor, json={"text": "Hi"},
                         timeout=10).status_code == 403
    assert requests.post(f"{url}/staff/cases/CMP-2026-ZZZZZZ/replies", headers=auth, json={"text": "Hi"},
                         timeout=10).status_code == 404
    assert requests.post(f"{url}/staff/cases/{reference}/replies", headers=auth, json={"text": ""},
                         timeout=10).status_code == 422
    assert requests.post(f"{url}/staff/cases/{reference}/replies", json={"text": "Hi"}, timeout=10).status_code == 401
