"""What the services need from the outside world. Adapters implement these; tests may fake them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from amends.domain.events import DomainEvent
from amends.domain.lifecycle import Status
from amends.domain.mail_log import MailLogEntry, MailOutcome
from amends.domain.model import Case, CaseListing, Change, Priority, TimelineEntry
from amends.domain.outgoing_mail import OutgoingMail
from amends.domain.sent_mail import SentMail


class ReferenceTaken(Exception):
    """The reference drawn for a new case already exists; draw another."""


@dataclass(frozen=True)
class FilingRequest:
    """A complaint filed with an Idempotency-Key (hashed), the request it came with (hashed) and the answer it got, so
    that the same request arriving again after its first answer was lost gets that answer, not a second case."""

    key_hash: str
    request_hash: str
    reference: str
    access_token: str
    expires_at: datetime


class RequestAlreadyFiled(Exception):
    """The Idempotency-Key filed a complaint already: ``filed`` is what that filing recorded."""

    def __init__(self, filed: FilingRequest) -> None:
        super().__init__(filed.reference)
        self.filed = filed


class FilingRequests(Protocol):
    def record_case(self, change: Change, request: FilingRequest, now: datetime) -> None:
        """Write the new case (as ``CaseRepository.record``) and the request that filed it in one transaction. Raises
        ``RequestAlreadyFiled`` when the key filed a case before (and has not expired by ``now``), ``ReferenceTaken``
        when the reference exists."""
        ...


@dataclass(frozen=True)
class CaseQuery:
    status: Status | None = None
    owner: str | None = None
    priority: Priority | None = None
    limit: int = 25
    cursor: str | None = None


@dataclass(frozen=True)
class CasePage:
    items: list[CaseListing]
    next_cursor: str | None


@dataclass(frozen=True)
class CaseRecord:
    case: Case
    timeline: list[TimelineEntry] = field(default_factory=list)


class CaseRepository(Protocol):
    def record(self, change: Change) -> None:
        """Write the new case version, its timeline entry and its outbox events atomically.

        Raises ``ReferenceTaken`` when opening a case whose reference exists, and ``ConcurrentUpdate`` when
        the stored version is not ``change.expected_version``.
        """
        ...

    def record_all(self, changes: Sequence[Change]) -> None:
        """Write changes to several cases (a merge: the duplicate and the case it joins) in one transaction: all of
        them or none. Raises ``ConcurrentUpdate`` (for the first case whose stored version is not the change's
        ``expected_version``) and ``ReferenceTaken`` like ``record``."""
        ...

    def get(self, reference: str) -> Case:
        """Raises ``CaseNotFound``."""
        ...

    def get_with_timeline(self, reference: str) -> CaseRecord:
        """Raises ``CaseNotFound``."""
        ...

    def list_cases(self, query: CaseQuery) -> CasePage:
        """Raises ``InvalidCursor``."""
        ...


class OutboxStore(Protocol):
    def pending_events(self, older_than_iso: str, limit: int) -> list[DomainEvent]: ...

    def mark_published(self, events: Sequence[DomainEvent], at: datetime) -> None: ...


class EventPublisher(Protocol):
    def publish(self, events: Sequence[DomainEvent]) -> list[DomainEvent]:
        """Publish; return the events that could not be published (to be retried)."""
        ...


class Mailer(Protocol):
    def send(self, mail: OutgoingMail) -> str:
        """Send one email; return the provider's message id."""
        ...


class MailAlreadyClaimed(Exception):
    """The message's Message-ID opened a case already (``case_reference``), or its SES message id was logged while
    this delivery was being processed (``ses_message_id_seen``)."""

    def __init__(self, case_reference: str | None, *, ses_message_id_seen: bool = False) -> None:
        super().__init__(case_reference)
        self.case_reference = case_reference
        self.ses_message_id_seen = ses_message_id_seen


@dataclass(frozen=True)
class MailQuery:
    outcome: MailOutcome | None = None
    limit: int = 25
    cursor: str | None = None


@dataclass(frozen=True)
class MailPage:
    items: list[MailLogEntry]
    next_cursor: str | None


class MailLog(Protocol):
    def get(self, ses_message_id: str) -> MailLogEntry | None: ...

    def record(self, entry: MailLogEntry) -> MailLogEntry:
        """Log a message that opened no case; returns the entry stored (the earlier one if there is one)."""
        ...

    def record_case(self, change: Change, entry: MailLogEntry, *, message_id_key: str | None) -> MailLogEntry:
        """The new case, the claim on its Message-ID and the mail-log entry in one transaction. Raises
        ``MailAlreadyClaimed`` and ``ReferenceTaken``."""
        ...

    def list_mail(self, query: MailQuery) -> MailPage:
        """Newest first. Raises ``InvalidCursor``."""
        ...

    def settle(self, entry: MailLogEntry, *, was: MailOutcome) -> MailLogEntry:
        """Replace the stored entry with ``entry`` only while the stored one's outcome is ``was`` (a quarantined
        message released or discarded once); returns what is stored afterwards."""
        ...


class AttachmentStore(Protocol):
    """The bytes of the files complainants send, by case and SHA-256 (adapters/attachments.py)."""

    def put(self, reference: str, sha256: str, data: bytes, *, filename: str, content_type: str) -> None: ...

    def link(self, reference: str, sha256: str, *, filename: str, content_type: str, expires_in: int) -> str:
        """A short-lived URL that downloads the file under its name."""
        ...


class RawMailStore(Protocol):
    """Raw inbound messages as SES stored them (read only)."""

    def read(self, key: str) -> bytes: ...


class SentMailStore(Protocol):
    """What we sent and to whom we may send: the record replies and bounces are matched by, undeliverable addresses,
    the per-address budget of automatic mail, and the reply tokens of cases (adapters/sent_mail.py)."""

    def record_sent(self, sent: SentMail, letter: str | None = None) -> None:
        """Keep what was sent (and, with ``letter``, that this letter went, for ``letter_sent``)."""
        ...

    def letter_sent(self, letter: str) -> str | None:
        """The Message-ID the letter ``letter`` was sent as, or None if it was not sent."""
        ...

    def find_sent(self, message_id: str) -> SentMail | None: ...

    def undeliverable(self, address: str) -> str | None:
        """Why ``address`` must not be mailed (a permanent bounce), or None."""
        ...

    def mark_undeliverable(self, address: str, reason: str, at: datetime) -> None: ...

    def take_automatic_slot(self, address: str, window_start: datetime, limit: int, expires_at: datetime) -> bool:
        """Count one automatic message to ``address`` in the window starting at ``window_start``; False (and
        nothing counted) when ``limit`` are counted already."""
        ...

    def reply_token(self, reference: str) -> str:
        """The case's reply token, made on first use (the same one ever after)."""
        ...

    def case_of_token(self, token: str) -> str | None: ...

    def origin_of(self, reference: str) -> tuple[str, str] | None:
        """The Message-ID and subject of the email that opened the case, when one did."""
        ...

    def latest_reply(self, reference: str) -> str | None:
        """The Message-ID of the complainant's latest email reply added to the case."""
        ...


@dataclass(frozen=True)
class StaffMember:
    id: str  # the user's sub: what a case's owner and a staff actor's id are
    email: str
    name: str | None = None


class StaffDirectory(Protocol):
    """Staff addresses, from the user pool (adapters/cognito.py; locally, the local identity provider's users)."""

    def member(self, user_id: str) -> StaffMember | None:
        """The user whose sub (or username) is ``user_id``; None if there is none, or it has no email."""
        ...

    def with_role(self, role: str) -> list[StaffMember]:
        """Everyone in the group ``role`` (supervisor, manager...), enabled and with an email."""
        ...
