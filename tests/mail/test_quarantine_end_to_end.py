"""End to end: mail SES would quarantine (a failed spam verdict), sent over real SMTP, then released or discarded by
a supervisor over HTTP; the mail log says what became of it at every step."""

from __future__ import annotations

import uuid

import pytest
import requests

from .test_email_end_to_end import complaint, mail, smtp_send, token

pytestmark = pytest.mark.e2e


def entry_of(url: str, auth: dict[str, str], subject: str) -> list[dict]:
    return [e for e in mail(url, auth, limit=100)["items"] if e["subject"] == subject]


def test_a_supervisor_releases_quarantined_mail_into_a_case_and_discards_other_mail(stack) -> None:
    url = stack.api_url
    handler = {"Authorization": f"Bearer {token(url)}"}
    supervisor = {"Authorization": f"Bearer {token(url, 'supervisor')}"}
    run = uuid.uuid4().hex[:8]
    smtp_send(stack, complaint(f"Looks like spam {run}", **{"X-Amends-Local-Verdicts": "spam=FAIL"}))
    smtp_send(stack, complaint(f"Phishing {run}", **{"X-Amends-Local-Verdicts": "virus=FAIL"}))
    stack.wait_until_idle(timeout=60)
    [held] = entry_of(url, supervisor, f"Looks like spam {run}")
    [phishing] = entry_of(url, supervisor, f"Phishing {run}")
    assert held["outcome"] == phishing["outcome"] == "quarantined" and held["case_reference"] is None

    refused = requests.post(f"{url}/staff/mail/{held['ses_message_id']}/release", headers=handler, timeout=10)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"

    released = requests.post(f"{url}/staff/mail/{held['ses_message_id']}/release", headers=supervisor, timeout=30)
    assert released.status_code == 200, released.text
    body = released.json()
    reference = body["result"]["case_reference"]
    assert body["result"]["outcome"] == "case_created" and body["released"]["outcome"] == "released"
    assert body["released"]["reason"].startswith("released by supervisor-1 at ")
    case = requests.get(f"{url}/staff/cases/{reference}", headers=handler, timeout=10).json()
    assert case["channel"] == "email" and case["submission"]["complainant"]["email"] == "grace@example.com"

    again = requests.post(f"{url}/staff/mail/{held['ses_message_id']}/release", headers=supervisor, timeout=10)
    assert again.status_code == 409 and again.json()["type"].endswith("/not-quarantined")
    assert again.json()["outcome"] == "released"

    discarded = requests.post(f"{url}/staff/mail/{phishing['ses_message_id']}/discard", headers=supervisor,
                              json={"reason": "a known phishing campaign"}, timeout=10)
    assert discarded.status_code == 200, discarded.text
    assert discarded.json()["outcome"] == "discarded" and "a known phishing campaign" in discarded.json()["reason"]

    stack.wait_until_idle(timeout=60)
    by_outcome = {e["ses_message_id"]: e["outcome"] for e in mail(url, supervisor, limit=100)["items"]
                  if run in (e["subject"] or "")}
    assert by_outcome == {held["ses_message_id"]: "released", f"{held['ses_message_id']}.released": "case_created",
                          phishing["ses_message_id"]: "discarded"}
    assert [e["ses_message_id"] for e in mail(url, supervisor, outcome="discarded", limit=100)["items"]
            if run in (e["subject"] or "")] == [phishing["ses_message_id"]]
    unknown = requests.post(f"{url}/staff/mail/no-such-message/discard", headers=supervisor, json={}, timeout=10)
    assert unknown.status_code == 404 and unknown.json()["type"].endswith("/mail-not-found")
