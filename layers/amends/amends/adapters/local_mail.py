"""Locally, every email sent is also kept as an ``.eml`` file (``.local/mail/sent/`` under ``make run``), so a
developer can open what a complainant would have received; ``GET /_local/mail`` on the local gateway lists them.

Only the local runtime sets ``AMENDS_LOCAL_MAIL_DIR`` (amends.wiring wraps the mailer when it is set); in AWS
nothing is written. The file is the MIME the mailer sent, with the Message-ID and Date SES would have added.
"""

from __future__ import annotations

import re
from email.utils import format_datetime
from pathlib import Path

from amends.adapters.ses import SesMailer, to_mime
from amends.domain.clock import Clock
from amends.domain.outgoing_mail import OutgoingMail


class LocalMailCopy:
    def __init__(self, inner: SesMailer, directory: Path, clock: Clock) -> None:
        self.inner = inner
        self.directory = directory
        self.clock = clock

    def message_id_of(self, provider_id: str) -> str:
        return self.inner.message_id_of(provider_id)

    def send(self, mail: OutgoingMail) -> str:
        provider_id = self.inner.send(mail)
        message = to_mime(mail, self.inner.sender)
        message["Message-ID"] = self.inner.message_id_of(provider_id)
        now = self.clock.now()
        message["Date"] = format_datetime(now)
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{now:%Y%m%dT%H%M%S}-{mail.kind}-{re.sub(r'[^A-Za-z0-9-]', '', provider_id)[:60]}.eml"
        (self.directory / name).write_bytes(message.as_bytes())
        return provider_id
