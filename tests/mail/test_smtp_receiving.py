"""SES receiving on the local stack: SMTP in, the raw message in the raw-mail bucket under the rule's prefix, the
ingest function invoked asynchronously with SES's event, its permissions checked as in AWS."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage

import boto3
import pytest
from amends import wiring


def send(stack, *, to: str = "complaints@example.com", subject: str = "Charged twice", body: str = "I was charged twice.",
         **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Ada Lovelace <ada@example.com>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4()}@example.com>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    host, port = stack.smtp_address.split(":")
    with smtplib.SMTP(host, int(port), timeout=10) as smtp:
        smtp.send_message(message)
    return message


def logged(stack, message_id: str) -> list:
    stack.wait_until_idle(timeout=60)
    return [e for e in wiring.mail_log().list_mail(__import__("amends.services.ports", fromlist=["MailQuery"])
                                                   .MailQuery(limit=100)).items if e.message_id == message_id]


def test_a_message_is_stored_then_ingested(stack) -> None:
    message = send(stack)
    [entry] = logged(stack, message["Message-ID"].strip("<>"))
    assert entry.outcome == "case_created" and entry.raw_key.startswith("inbound/")
    s3 = boto3.client("s3", endpoint_url=stack.moto_endpoint, region_name="eu-west-2")
    bucket = stack.template.physical_name("RawMailBucket")
    raw = s3.get_object(Bucket=bucket, Key=entry.raw_key)["Body"].read()
    assert b"X-SES-Spam-Verdict: PASS" in raw and b"Charged twice" in raw
    case = wiring.case_repository().get(entry.case_reference)
    assert case.channel == "email" and case.submission.complainant.email == "ada@example.com"
    assert case.submission.complainant.name == "Ada Lovelace"
    assert case.submission.description.startswith("Charged twice\n\nI was charged twice.")


def test_a_recipient_no_rule_takes_is_refused(stack) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(stack, to="someone@elsewhere.example")


def outcomes(stack, message: EmailMessage) -> list[tuple[str, str | None]]:
    return [(e.outcome.value, e.case_reference) for e in logged(stack, message["Message-ID"].strip("<>"))]


def test_the_same_message_twice_or_to_two_addresses_makes_one_case(stack) -> None:
    message = send(stack)
    host, port = stack.smtp_address.split(":")
    with smtplib.SMTP(host, int(port), timeout=10) as smtp:  # delivered again, and once more to another address
        smtp.send_message(message)
        smtp.send_message(message, to_addrs=["complaints@example.com", "COMPLAINTS@example.com"])
    seen = outcomes(stack, message)
    assert sorted(o for o, _ in seen) == ["case_created", "duplicate", "duplicate"]
    assert len({ref for _, ref in seen}) == 1


def test_an_out_of_office_reply_is_logged_not_answered(stack) -> None:
    message = send(stack, subject="Out of office", Auto_Submitted="auto-replied")
    [(outcome, reference)] = outcomes(stack, message)
    assert outcome == "auto_reply_ignored" and reference is None


@pytest.mark.parametrize("verdicts", ["dmarc=FAIL, dmarcPolicy=reject", "spam=FAIL", "virus=FAIL"])
def test_failed_verdicts_are_quarantined_with_the_reason(stack, verdicts) -> None:
    message = send(stack, X_Amends_Local_Verdicts=verdicts)
    [entry] = logged(stack, message["Message-ID"].strip("<>"))
    assert entry.outcome == "quarantined" and "FAIL" in entry.reason and entry.case_reference is None
    if "dmarc" in verdicts:
        assert "reject" in entry.reason
