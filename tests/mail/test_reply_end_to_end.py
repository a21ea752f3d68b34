"""End to end over real SMTP: a complaint by email is acknowledged as a reply to it (threading headers, reference in
the subject, Auto-Submitted, a per-case reply address), the sent message is kept as an .eml and listed at
GET /_local/mail, and the complainant's reply to it lands on the same case. Then a bounce of our mail marks the
address undeliverable."""

from __future__ import annotations

import email
import email.policy
import time
import uuid
from email.message import EmailMessage

import pytest
import requests

from .test_email_end_to_end import smtp_send, token

pytestmark = pytest.mark.e2e


def sent_to(url: str, address: str, timeout: float = 60) -> list[dict]:
    """The messages the stack sent to ``address``, newest first (the acknowledgement follows the lifecycle)."""
    deadline = time.monotonic() + timeout
    while True:
        listed = requests.get(f"{url}/_local/mail", timeout=10).json()["messages"]
        found = [m for m in listed if address in (m["to"] or "")]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_a_reply_to_the_acknowledgement_lands_on_the_same_case(stack) -> None:
    url = stack.api_url
    auth = {"Authorization": f"Bearer {token(url)}"}
    sender = f"lin-{uuid.uuid4().hex[:8]}@example.org"
    complaint = EmailMessage()
    complaint["From"], complaint["To"] = f"Lin <{sender}>", "complaints@example.com"
    complaint["Subject"], complaint["Message-ID"] = "Standing order paid twice", f"<{uuid.uuid4()}@example.org>"
    complaint.set_content("My standing order was paid twice this month.")
    smtp_send(stack, complaint)
    stack.wait_until_idle(timeout=60)

    [listed] = sent_to(url, sender)
    raw = requests.get(f"{url}/_local/mail", params={"name": listed["name"]}, timeout=10)
    assert raw.status_code == 200 and raw.headers["Content-Type"] == "message/rfc822"
    ack = email.message_from_bytes(raw.content, policy=email.policy.default)
    reference = ack["Subject"].rsplit("[", 1)[1].rstrip("]")
    assert ack["Subject"] == f"Re: Standing order paid twice [{reference}]"
    assert ack["In-Reply-To"] == complaint["Message-ID"] and ack["References"] == complaint["Message-ID"]
    assert ack["Auto-Submitted"] == "auto-replied" and ack["Message-ID"].endswith("@eu-west-2.amazonses.com>")
    assert ack["Reply-To"].startswith("complaints+") and reference.lower() not in ack["Reply-To"].lower()

    answer = EmailMessage()
    answer["From"], answer["To"] = f"Lin <{sender}>", ack["Reply-To"]
    answer["Subject"], answer["Message-ID"] = f"Re: {ack['Subject']}", f"<{uuid.uuid4()}@example.org>"
    answer["In-Reply-To"] = answer["References"] = ack["Message-ID"]
    answer.set_content("It was on the 3rd and the 4th.\n\nOn Mon, Complaints wrote:\n> We have received your complaint")
    smtp_send(stack, answer)
    stack.wait_until_idle(timeout=60)

    [entry] = [e for e in requests.get(f"{url}/staff/mail", params={"limit": 20}, headers=auth, timeout=10)
               .json()["items"] if e["message_id"] == answer["Message-ID"].strip("<>")]
    assert (entry["outcome"], entry["case_reference"]) == ("added_to_case", reference)
    case = requests.get(f"{url}/staff/cases/{reference}", headers=auth, timeout=10).json()
    messages = [e for e in case["timeline"] if e["action"] == "add_message"]
    assert [m["body"] for m in messages] == ["It was on the 3rd and the 4th."]

    # Our next mail answers their reply, in the same thread.
    sent = requests.post(f"{url}/staff/cases/{reference}/replies", headers=auth, json={"text": "Thank you."},
                         timeout=10).json()
    assert sent["in_reply_to"] == answer["Message-ID"]


def test_a_bounce_of_our_mail_is_recorded_and_stops_mail_to_the_address(stack) -> None:
    url = stack.api_url
    auth = {"Authorization": f"Bearer {token(url)}"}
    sender = f"gone-{uuid.uuid4().hex[:8]}@example.org"
    complaint = EmailMessage()
    complaint["From"], complaint["To"], complaint["Subject"] = sender, "complaints@example.com", "Fee charged"
    complaint["Message-ID"] = f"<{uuid.uuid4()}@example.org>"
    complaint.set_content("A fee I never agreed to.")
    smtp_send(stack, complaint)
    stack.wait_until_idle(timeout=60)
    [listed] = sent_to(url, sender)

    report = email.message_from_bytes(
        ("From: MAILER-DAEMON@example.org\r\nTo: complaints@example.com\r\nSubject: Undeliverable\r\n"
         f"Message-ID: <{uuid.uuid4()}@example.org>\r\nMIME-Version: 1.0\r\n"
         'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
         "--b\r\nContent-Type: text/plain\r\n\r\nUser unknown.\r\n"
         "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
         f"Final-Recipient: rfc822; {sender}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
         f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {listed['message_id']}\r\n\r\n--b--\r\n")
        .encode(), policy=email.policy.default)
    smtp_send(stack, report)
    stack.wait_until_idle(timeout=60)
    [entry] = [e for e in requests.get(f"{url}/staff/mail", params={"limit": 20}, headers=auth, timeout=10)
               .json()["items"] if e["message_id"] == report["Message-ID"].strip("<>")]
    assert entry["outcome"] == "bounce_recorded" and "undeliverable" in entry["reason"]
    from amends import wiring

    assert wiring.sent_mail().undeliverable(sender)


def test_a_reply_to_the_case_address_without_threading_headers_lands_on_the_case(stack) -> None:
    """A client that drops In-Reply-To (or a complainant who writes afresh to the address we gave): the token in the
    recipient address, which the receipt rule takes because InboundRecipients lists the domain."""
    url = stack.api_url
    auth = {"Authorization": f"Bearer {token(url)}"}
    sender = f"ola-{uuid.uuid4().hex[:8]}@example.org"
    complaint = EmailMessage()
    complaint["From"], complaint["To"], complaint["Subject"] = sender, "complaints@example.com", "Loan letter"
    complaint["Message-ID"] = f"<{uuid.uuid4()}@example.org>"
    complaint.set_content("Your letter about my loan was wrong.")
    smtp_send(stack, complaint)
    stack.wait_until_idle(timeout=60)
    [ack] = sent_to(url, sender)

    fresh = EmailMessage()
    fresh["From"], fresh["To"], fresh["Subject"] = sender, ack["reply_to"], "one more thing"
    fresh["Message-ID"] = f"<{uuid.uuid4()}@example.org>"
    fresh.set_content("The letter was dated 2 March.")
    smtp_send(stack, fresh)
    stack.wait_until_idle(timeout=60)
    [entry] = [e for e in requests.get(f"{url}/staff/mail", params={"limit": 20}, headers=auth, timeout=10)
               .json()["items"] if e["message_id"] == fresh["Message-ID"].strip("<>")]
    reference = ack["subject"].rsplit("[", 1)[1].rstrip("]")
    assert (entry["outcome"], entry["case_reference"]) == ("added_to_case", reference)
    assert entry["reason"] == "sent to the case's reply address"
