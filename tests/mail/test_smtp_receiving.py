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
