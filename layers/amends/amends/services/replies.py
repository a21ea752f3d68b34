"""Inbound mail that answers ours: a reply lands on its case, a bounce is recorded and stops us mailing the address.

Called by ``email_intake.ingest`` before it would open a new case. Each outcome is written with its mail-log entry
and the claim on the message's Message-ID in one transaction (like a new case), so a redelivery, or the same reply
sent to two of our addresses, adds it once.

- A reply matched by ``amends.domain.reply_matching`` is a complainant message through the domain core
  (``Case.add_message``: in ``awaiting_complainant`` it resumes the investigation, as the API's message does); on a
  closed case inside its reopen window it is kept and flagged for staff; after the window, or when only the
  subject named a case and the sender is not its complainant, the mail opens a new case linked to that one.
- The text kept is the new part only: quoted history and signature are stripped by ``mail-parser-reply`` (the raw
  message stays in the raw-mail bucket, linked from the mail log).
- A bounce (RFC 3464) whose original Message-ID is one of ours is recorded on that case, and a permanent failure
  marks the address we sent to undeliverable, so the guard (services/outbound.py) stops mailing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from amends.domain.bounces import read_bounce
from amends.domain.clock import Clock
from amends.domain.errors import CaseNotFound
from amends.domain.handling import CaseLink, LinkRelation
from amends.domain.inbound_mail import InboundMail
from amends.domain.lifecycle import Status
from amends.domain.mail_log import MailLogEntry, MailOutcome
from amends.domain.model import LONG_TEXT_MAX_CHARS, Actor, Case, Change
from amends.domain.reply_matching import Lookups, ReplyClues, match_reply
from amends.services import email_files
from amends.services.common import with_optimistic_retry
from amends.services.email_files import Kept
from amends.services.ports import CaseRepository, MailAlreadyClaimed, MailLog, ReferenceTaken, SentMailStore
from amends.settings import Settings

COMPLAINANT = Actor(kind="complainant", id="complainant")
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "da", "cs"]
EMPTY_REPLY = "(The email had no new text above the quoted message; the raw message is kept.)"
Logged = Callable[..., MailLogEntry]  # email_intake's: (outcome, reason=None, reference=None) -> entry


@dataclass(frozen=True)
class MailDesk:
    """What threading needs besides the mail log: the record of sent mail and the cases."""

    store: SentMailStore
    repo: CaseRepository


@dataclass(frozen=True)
class LinkTo:
    """Open a new case for this mail, linked to ``reference``, and tell staff ``why``."""

    reference: str
    why: str


def reply_text(text: str) -> str:
    """The new part of a reply: quoted history and signature removed; the whole text if nothing is left."""
    from mailparser_reply import EmailReplyParser  # imported when a reply arrives

    try:
        replies = EmailReplyParser(languages=REPLY_LANGUAGES).read(text=text).replies
        latest = replies[0].body.strip()  # none at all (the parser always gives one): IndexError, below
    except Exception:  # noqa: BLE001 - a parser failure must not lose the message: keep the text as it came
        latest = ""
    return (latest or text.strip())[:LONG_TEXT_MAX_CHARS]


def record_bounce(raw: bytes, mail: InboundMail, logged: Logged, *, desk: MailDesk, mail_log: MailLog,
                  clock: Clock) -> MailLogEntry | None:
    """The bounce's entry, when ``raw`` is a delivery report about mail we sent; None otherwise (it is then
    ignored as the automatic mail it is)."""
    bounce = read_bounce(raw)
    if bounce is None or not bounce.original_message_id:
        return None
    sent = desk.store.find_sent(bounce.original_message_id)
    if sent is None or not sent.case_reference:
        return None
    now = clock.now()
    failed = [a for a in bounce.undeliverable if a == sent.to.lower()]  # only the address we mailed: no forgery
    for address in failed:
        desk.store.mark_undeliverable(address, f"bounced ({bounce.summary()})", now)
    why = (f"bounce of our {sent.kind} <{sent.message_id}>: {bounce.summary()}"
           + ("; address marked undeliverable" if failed else ""))
    return _record(lambda case: case.record_bounce(why, now), sent.case_reference, mail, logged,
                   MailOutcome.BOUNCE_RECORDED, why, desk=desk, mail_log=mail_log)


def add_reply(mail: InboundMail, recipients: tuple[str, ...], logged: Logged, *, desk: MailDesk, mail_log: MailLog,
              clock: Clock, settings: Settings,
              attach: Callable[[str], Kept]) -> MailLogEntry | LinkTo | None:
    """The entry of a reply added to its case; a ``LinkTo`` when it must open a new case linked to one; None when
    it answers nothing of ours (a new complaint)."""
    look = Lookups(sent=desk.store.find_sent, case_of_token=desk.store.case_of_token,
                   contacts_of=lambda ref: _contacts(desk.repo, ref), reply_base=settings.reply_address
                   or settings.sender_address, reference_prefix=settings.reference_prefix)
    match = match_reply(ReplyClues.of(mail.headers, mail.sender_address, mail.subject, recipients), look)
    if match is None:
        return None
    if not match.trusted:
        return LinkTo(match.reference, match.why)
    try:
        case = desk.repo.get(match.reference)
    except CaseNotFound:
        return None
    now = clock.now()
    if case.status is Status.CLOSED and (case.closure is None or now > case.closure.reopen_until):
        return LinkTo(case.reference, f"{match.why}, but it is closed and its reopen window has ended: opened as a "
                                      f"new case linked to it")
    kept = attach(case.reference)
    files_line = email_files.summary(kept)
    text = reply_text(mail.text) or (None if files_line else EMPTY_REPLY)
    body = "\n\n".join(p for p in (text, files_line) if p)[:LONG_TEXT_MAX_CHARS]

    def change(latest: Case) -> Change:
        if latest.status is Status.CLOSED:
            return email_files.with_files(latest.add_message_after_closure(body, COMPLAINANT, now), kept)
        return email_files.with_files(latest.add_message(body, COMPLAINANT, now), kept)

    why = match.why + ("; the case is closed: flagged for staff" if case.status is Status.CLOSED else "")
    return _record(change, case.reference, mail, logged, MailOutcome.ADDED_TO_CASE, why, desk=desk,
                   mail_log=mail_log)


def link_new_case(entry: MailLogEntry, link: LinkTo, *, repo: CaseRepository, at: datetime) -> MailLogEntry:
    """After the new case is written: a link on each side (staff only), saying why the mail did not go into the
    case it named."""
    if not entry.case_reference or entry.outcome is not MailOutcome.CASE_CREATED:
        return entry
    system = Actor.system("mail")
    for this, other in ((entry.case_reference, link.reference), (link.reference, entry.case_reference)):
        def attempt(this: str = this, other: str = other) -> None:
            case = repo.get(this)
            if any(existing.reference == other for existing in case.links):
                return
            repo.record(case.add_link(CaseLink(reference=other, relation=LinkRelation.RELATED, linked_by=system.id,
                                               linked_at=at), system, at, body=f"Email link: {link.why}"))

        with_optimistic_retry(attempt)
    return entry


def _contacts(repo: CaseRepository, reference: str) -> tuple[str, ...] | None:
    try:
        sub = repo.get(reference).submission
    except CaseNotFound:
        return None
    return tuple(p.email for p in (sub.complainant, sub.representative) if p is not None and p.email)


def _record(make: Callable[[Case], Change], reference: str, mail: InboundMail, logged: Logged, outcome: MailOutcome,
            why: str, *, desk: MailDesk, mail_log: MailLog) -> MailLogEntry:
    entry = logged(outcome, why, reference)
    for _ in range(3):
        try:
            return mail_log.record_case(make(desk.repo.get(reference)), entry, message_id_key=mail.message_id_hash)
        except ReferenceTaken:  # the case changed between our read and our write: decide again on the new version
            continue
        except MailAlreadyClaimed as claimed:
            if claimed.ses_message_id_seen:
                return mail_log.get(entry.ses_message_id) or entry
            return mail_log.record(logged(MailOutcome.DUPLICATE, f"Message-ID {mail.message_id} was taken in already",
                                          claimed.case_reference))
    raise RuntimeError(f"case {reference} kept changing while a reply was being added; Lambda retries the message")
