"""Sends email through Amazon SES as raw MIME, so the threading and loop-prevention headers reach the recipient
exactly as written: ``In-Reply-To``/``References`` put a reply in the complainant's conversation, and
``Auto-Submitted: auto-replied`` (RFC 3834) on automatic mail means well-behaved systems never answer it."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import boto3
from amends.domain.outgoing_mail import OutgoingMail


def to_mime(mail: OutgoingMail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    if mail.in_reply_to:
        message["In-Reply-To"] = mail.in_reply_to
    if mail.references:
        message["References"] = " ".join(mail.references)
    if mail.automatic:
        message["Auto-Submitted"] = "auto-replied"
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


def ses_message_id(provider_id: str, region: str) -> str:
    """The Message-ID header SES gives a message (it replaces any we write): the id SendRawEmail returned, at
    ``email.amazonses.com`` in us-east-1 and at ``<region>.amazonses.com`` elsewhere. Replies quote this one."""
    host = "email.amazonses.com" if region == "us-east-1" else f"{region}.amazonses.com"
    return f"<{provider_id}@{host}>"


class SesMailer:
    def __init__(self, sender: str, client: Any | None = None, configuration_set: str | None = None) -> None:
        self.sender = sender
        self.client = client or boto3.client("ses")
        # The configuration set publishes bounces and complaints to the feedback path (functions/mail_feedback).
        self.configuration_set = configuration_set
        self.region = self.client.meta.region_name

    def message_id_of(self, provider_id: str) -> str:
        return ses_message_id(provider_id, self.region)

    def send(self, mail: OutgoingMail) -> str:
        message = to_mime(mail, self.sender)
        extra = {"ConfigurationSetName": self.configuration_set} if self.configuration_set else {}
        response = self.client.send_raw_email(
            Source=self.sender, Destinations=[mail.to], RawMessage={"Data": message.as_bytes()}, **extra
        )
        return response["MessageId"]
