"""End to end: a complaint sent over real SMTP into the local stack, then the case and GET /staff/mail over HTTP."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage

import pytest
import requests

pytestmark = pytest.mark.e2e


def token(url: str, role: str = "handler") -> str:
    response = requests.post(f"{url}/_local/token", json={"role": role, "sub": f"{role}-1"}, timeout=10)
    response.raise_for_status()
    return response.json()["token"]


def smtp_send(stack, message: EmailMessage) -> None:
    host, port = stack.smtp_address.split(":")
    with smtplib.SMTP(host, int(port), timeout=10) as smtp:
        smtp.send_message(message)


def complaint(subject: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Grace Hopper <grace@example.com>"
    message["To"] = "complaints@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4()}@example.com>"
    for name, value in headers.items():
        message[name] = value
    message.set_content("My card was declined abroad although I had told the bank I was travelling.")
    message.add_alternative("<p>My card was <b>declined</b> abroad.</p>", subtype="html")
    return message


def mail(url: str, auth: dict[str, str], **params: object) -> dict:
    response = requests.get(f"{url}/staff/mail", params=params, headers=auth, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_email_becomes_a_case_and_every_message_is_in_the_mail_log(stack) -> None:
    url = stack.api_url
    auth = {"Authorization": f"Bearer {token(url)}"}
    run = uuid.uuid4().hex[:8]  # in every subject: the log's entries of this test's own messages, whatever else came in
    first = complaint(f"Card declined {run}")
    smtp_send(stack, first)
    smtp_send(stack, first)  # delivered twice
    smtp_send(stack, complaint(f"Out of office {run}", **{"Auto-Submitted": "auto-replied"}))
    stack.wait_until_idle(timeout=60)

    newest = [e for e in mail(url, auth, limit=100)["items"] if run in (e["subject"] or "")]
    assert [e["outcome"] for e in newest] == ["auto_reply_ignored", "duplicate", "case_created"]
    created, duplicate = newest[2], newest[1]
    assert created["subject"] == first["Subject"] and created["sender"] == "grace@example.com"
    assert created["raw_key"].startswith("inbound/") and created["case_url"] == f"/staff/cases/{created['case_reference']}"
    assert duplicate["case_reference"] == created["case_reference"]

    case = requests.get(f"{url}{created['case_url']}", headers=auth, timeout=10).json()
    assert case["channel"] == "email" and case["submission"]["complainant"]["email"] == "grace@example.com"
    assert case["submission"]["description"].startswith(first["Subject"] + "\n\nMy card was declined abroad")

    only = mail(url, auth, outcome="case_created", limit=1)
    assert [e["ses_message_id"] for e in only["items"]] == [created["ses_message_id"]]
    assert only["next_cursor"]
    following = mail(url, auth, outcome="case_created", limit=1, cursor=only["next_cursor"])["items"]
    assert all(e["outcome"] == "case_created" and e["ses_message_id"] != created["ses_message_id"] for e in following)


def test_the_mail_log_needs_a_staff_token_and_refuses_bad_filters(stack) -> None:
    url = stack.api_url
    assert requests.get(f"{url}/staff/mail", timeout=10).status_code == 401
    auth = {"Authorization": f"Bearer {token(url, 'auditor')}"}
    assert requests.get(f"{url}/staff/mail", params={"outcome": "eaten"}, headers=auth, timeout=10).status_code == 422
    assert requests.get(f"{url}/staff/mail", params={"cursor": "bogus"}, headers=auth, timeout=10).status_code == 400
