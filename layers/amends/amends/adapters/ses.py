"""Sends complainant email through Amazon SES. Every message is marked as automatic so that
well-behaved mail systems never answer it (and so can never start a mail loop)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import boto3


class SesMailer:
    def __init__(self, sender: str, client: Any | None = None) -> None:
        self.sender = sender
        self.client = client or boto3.client("ses")

    def send(self, *, to: str, subject: str, body: str, reply_to: str | None = None) -> str:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        if reply_to:
            message["Reply-To"] = reply_to
        message["Auto-Submitted"] = "auto-replied"
        message.set_content(body)
        response = self.client.send_raw_email(
            Source=self.sender, Destinations=[to], RawMessage={"Data": message.as_bytes()}
        )
        return response["MessageId"]
