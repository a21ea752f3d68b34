"""An in-memory record of sent mail (the port adapters/sent_mail.py implements on DynamoDB), and a mailer that
keeps what it is given."""

from __future__ import annotations

from datetime import datetime

from amends.domain.outgoing_mail import OutgoingMail
from amends.domain.sent_mail import SentMail, message_id_key, new_reply_token


class MemorySentMail:
    def __init__(self) -> None:
        self.sent: dict[str, SentMail] = {}
        self.bad: dict[str, str] = {}
        self.counts: dict[tuple[str, datetime], int] = {}
        self.tokens: dict[str, str] = {}
        self.origins: dict[str, tuple[str, str]] = {}
        self.latest: dict[str, str] = {}
        self.letters: dict[str, str] = {}

    def record_sent(self, sent: SentMail, letter: str | None = None) -> None:
        self.sent[message_id_key(sent.message_id)] = sent
        if letter:
            self.letters[letter] = f"<{sent.message_id}>"

    def letter_sent(self, letter: str) -> str | None:
        return self.letters.get(letter)

    def find_sent(self, message_id: str) -> SentMail | None:
        return self.sent.get(message_id_key(message_id))

    def undeliverable(self, address: str) -> str | None:
        return self.bad.get(address.lower())

    def mark_undeliverable(self, address: str, reason: str, at: datetime) -> None:
        self.bad[address.lower()] = reason

    def take_automatic_slot(self, address: str, window_start: datetime, limit: int, expires_at: datetime) -> bool:
        key = (address.lower(), window_start)
        if self.counts.get(key, 0) >= limit:
            return False
        self.counts[key] = self.counts.get(key, 0) + 1
        return True

    def reply_token(self, reference: str) -> str:
        return self.tokens.setdefault(reference, new_reply_token())

    def case_of_token(self, token: str) -> str | None:
        return next((ref for ref, t in self.tokens.items() if t == token), None)

    def origin_of(self, reference: str) -> tuple[str, str] | None:
        return self.origins.get(reference)

    def latest_reply(self, reference: str) -> str | None:
        return self.latest.get(reference)


class KeepingMailer:
    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    def send(self, mail: OutgoingMail) -> str:
        self.sent.append(mail)
        return f"0100018c-{len(self.sent):04d}"


class CaseMailLog:
    """The MailLog port in memory over a case repository: the change, the claim and the entry together, refused as
    the adapter refuses them (a stale version is ``ReferenceTaken``, as its explanation of a cancelled write says)."""

    def __init__(self, repo) -> None:
        from amends.services.ports import MailAlreadyClaimed, ReferenceTaken  # noqa: F401

        self.repo = repo
        self.entries: dict = {}
        self.claims: dict[str, str] = {}

    def get(self, ses_message_id):
        return self.entries.get(ses_message_id)

    def record(self, entry):
        return self.entries.setdefault(entry.ses_message_id, entry)

    def record_case(self, change, entry, *, message_id_key):
        from amends.domain.errors import ConcurrentUpdate
        from amends.services.ports import MailAlreadyClaimed, ReferenceTaken

        if entry.ses_message_id in self.entries:
            raise MailAlreadyClaimed(None, ses_message_id_seen=True)
        if message_id_key in self.claims:
            raise MailAlreadyClaimed(self.claims[message_id_key])
        try:
            self.repo.record(change)
        except ConcurrentUpdate:
            raise ReferenceTaken(change.case.reference) from None
        if message_id_key:
            self.claims[message_id_key] = change.case.reference
        self.entries[entry.ses_message_id] = entry
        return entry

    def settle(self, entry, *, was):
        stored = self.entries.get(entry.ses_message_id)
        if stored is not None and stored.outcome is was:
            self.entries[entry.ses_message_id] = stored = entry
        return stored or entry

    def list_mail(self, query):
        from amends.services.ports import MailPage

        return MailPage(list(self.entries.values()), None)
