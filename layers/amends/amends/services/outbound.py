"""Every email we send goes through here: the delivery guard, then the mailer, then the record of what was sent.

The guard refuses an address marked undeliverable (a permanent bounce came back from it), and counts automatic
mail per address per hour (``Settings.automatic_mail_per_hour``): the last guard against a loop with an
auto-responder the loop rules did not recognise. Mail a person wrote (a staff reply) is never rate-limited, nor is
mail to staff at their directory addresses (``OutgoingMail.to_staff``).

What was sent is recorded by the Message-ID its recipient sees, which is not one we choose: SES replaces any
Message-ID with its own, built from the id ``SendRawEmail`` returns (``message_id_of``, from the mailer adapter).
A reply's ``In-Reply-To`` and a bounce's original message carry that id back to the case.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from amends.domain.clock import Clock
from amends.domain.outgoing_mail import OutgoingMail
from amends.domain.sent_mail import SentMail
from amends.services.ports import Mailer, SentMailStore
from amends.settings import Settings

RATE_WINDOW = timedelta(hours=1)


class MailRefused(Exception):
    """The guard would not send: the address is undeliverable, or has had its automatic mail for the hour."""


class GuardedMailer:
    """A ``Mailer`` (``send`` returns the Message-ID the recipient sees) that only sends what the guard allows."""

    def __init__(self, mailer: Mailer, store: SentMailStore, *, clock: Clock, settings: Settings,
                 message_id_of: Callable[[str], str]) -> None:
        self.mailer = mailer
        self.store = store
        self.clock = clock
        self.settings = settings
        self.message_id_of = message_id_of

    def send(self, mail: OutgoingMail) -> str:
        """Raises ``MailRefused`` saying why nothing was sent. A letter already sent is not sent again: its
        Message-ID is returned."""
        if mail.letter and (earlier := self.store.letter_sent(mail.letter)):
            return earlier
        why = self.store.undeliverable(mail.to)
        if why:
            raise MailRefused(f"{mail.to} is marked undeliverable: {why}")
        now = self.clock.now()
        if mail.automatic and not mail.to_staff:
            window = now.replace(minute=0, second=0, microsecond=0)
            limit = self.settings.automatic_mail_per_hour
            if not self.store.take_automatic_slot(mail.to, window, limit, expires_at=window + 2 * RATE_WINDOW):
                raise MailRefused(f"{mail.to} has had {limit} automatic emails this hour (AUTOMATIC_MAIL_PER_HOUR): "
                                  f"not sent, in case it is an auto-responder answering us")
        message_id = self.message_id_of(self.mailer.send(mail))
        self.store.record_sent(SentMail(message_id=message_id.strip("<>"), case_reference=mail.case_reference,
                                        kind=mail.kind, to=mail.to, sent_at=now, automatic=mail.automatic),
                                letter=mail.letter)
        return message_id
