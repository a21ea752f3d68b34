"""End to end: SES's feedback about mail we sent, on the local stack. An acknowledgement to the mailbox simulator's
bounce address bounces; the event goes from the configuration set to the feedback topic, its queue and the feedback
function, which marks the address undeliverable and tells the case; a staff reply to it is then refused. The
simulator's complaint address draws a complaint, which stops mail to it too."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from .test_email_end_to_end import token

pytestmark = pytest.mark.e2e


def file(url: str, address: str) -> str:
    complaint = {"complainant": {"name": "Simulated Person", "email": address}, "product_or_service": "Card",
                 "description": "I was charged twice for one card payment.", "remedy_sought": "A refund",
                 "preferred_contact_channel": "email"}
    filed = requests.post(f"{url}/complaints", json=complaint, timeout=10, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert filed.status_code == 201, filed.text
    return filed.json()["reference"]


def timeline_entry(url: str, auth: dict[str, str], reference: str, action: str, timeout: float = 60.0) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        case = requests.get(f"{url}/staff/cases/{reference}", headers=auth, timeout=10).json()
        found = [e for e in case["timeline"] if e["action"] == action]
        if found:
            return found[-1]
        time.sleep(0.3)
    return None


@pytest.mark.parametrize(("address", "words"), [
    ("bounce@simulator.amazonses.com", "bounced (bounce@simulator.amazonses.com: 5.1.1 smtp; 550 5.1.1 user unknown)"),
    ("complaint@simulator.amazonses.com", "complained: marked our mail as spam (abuse)"),
])
def test_feedback_on_our_mail_marks_the_address_and_tells_the_case(stack, address, words) -> None:
    from amends import wiring

    url = stack.api_url
    auth = {"Authorization": f"Bearer {token(url)}"}
    reference = file(url, address)
    stack.wait_until_idle(timeout=60)
    entry = timeline_entry(url, auth, reference, "record_bounce")
    assert entry is not None, "the feedback never reached the case"
    assert entry["reason"].startswith(f"{'bounce' if 'bounce' in address else 'complaint'} of our acknowledgement <")
    assert words in entry["reason"] and entry["reason"].endswith("; address marked undeliverable")
    assert not entry["complainant_visible"]
    assert wiring.sent_mail().undeliverable(address).startswith(words)
    refused = requests.post(f"{url}/staff/cases/{reference}/replies", headers=auth, json={"text": "Hello"}, timeout=10)
    assert refused.status_code == 409 and "undeliverable" in refused.json()["detail"]
