"""Receipt by email (ISO 10002 7.2): one inbound message → a case, or a mail-log entry saying why not.

Every message that reached the inbox gets exactly one mail-log entry, keyed by SES's message id, so a redelivery
(Lambda retries an asynchronous invocation) finds its entry and changes nothing. A case is opened at most once per
Message-ID: the claim on it is written in the same transaction as the case, its timeline entry, its outbox events
and the mail-log entry, so the same message delivered twice, or to two of our addresses, makes one case.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from amends.domain.clock import Clock
from amends.domain.inbound_mail import InboundMail, read_mail
from amends.domain.mail_log import MailLogEntry, MailOutcome
from amends.domain.mail_loops import automatic_mail
from amends.domain.model import LONG_TEXT_MAX_CHARS, Actor, Channel, Person, Submission, open_case
from amends.domain.reference import new_reference
from amends.services import email_files, replies
from amends.services.common import hash_token
from amends.services.ports import AttachmentStore, MailAlreadyClaimed, MailLog, ReferenceTaken
from amends.settings import Settings

MAX_REFERENCE_DRAWS = 5
NOT_STATED = "Not stated (complaint by email)"
FAILING_VERDICTS = {"FAIL"}  # GRAY and PROCESSING_FAILED let the mail through: a person may have sent it


@dataclass(frozen=True)
class Receipt:
    """What SES says about a message it received: its id, where it stored the raw bytes, and its verdicts."""

    ses_message_id: str
    raw_key: str
    received_at: datetime
    recipients: tuple[str, ...] = ()
    verdicts: dict[str, str] = field(default_factory=dict)  # spam, virus, spf, dkim, dmarc -> PASS/FAIL/GRAY/...
    dmarc_policy: str | None = None


def ingest(raw: bytes, receipt: Receipt, *, mail_log: MailLog, clock: Clock, settings: Settings,
           desk: replies.MailDesk | None = None, files: AttachmentStore | None = None) -> MailLogEntry:
    """Never raises for anything in the message; returns its mail-log entry (the earlier one on redelivery).
    With ``desk`` (the record of sent mail), bounces and replies to our mail go to their cases (services/replies);
    with ``files``, the message's attachments are kept for its case (services/email_files)."""
    earlier = mail_log.get(receipt.ses_message_id)
    if earlier is not None:
        return earlier
    mail = read_mail(raw)

    def logged(outcome: MailOutcome, reason: str | None = None, reference: str | None = None) -> MailLogEntry:
        return MailLogEntry(
            ses_message_id=receipt.ses_message_id, received_at=receipt.received_at, outcome=outcome, reason=reason,
            case_reference=reference, raw_key=receipt.raw_key, message_id=mail.message_id,
            sender=mail.sender_address, subject=mail.subject[:200] or None, recipients=receipt.recipients)

    refused = verdict_refusal(receipt)
    if refused:
        return mail_log.record(logged(MailOutcome.QUARANTINED, refused))
    if desk is not None and (bounce := replies.record_bounce(raw, mail, logged, desk=desk, mail_log=mail_log,
                                                             clock=clock)):
        return bounce
    automatic = automatic_mail(mail.headers, mail.sender_address)
    if automatic:
        return mail_log.record(logged(MailOutcome.AUTO_REPLY_IGNORED, automatic))
    found = email_files.files_of(raw, settings) if files is not None else None

    def kept(reference: str) -> email_files.Kept:
        if found is None or files is None:
            return (), ()
        return email_files.keep(found, reference, files, clock.now())

    reply = None if desk is None else replies.add_reply(mail, receipt.recipients, logged, desk=desk,
                                                         mail_log=mail_log, clock=clock, settings=settings,
                                                         attach=kept)
    if isinstance(reply, MailLogEntry):
        return reply
    try:
        submission = submission_from(mail)
    except ValueError as why:
        return mail_log.record(logged(MailOutcome.QUARANTINED, str(why)))

    actor = Actor(kind="complainant", id="complainant")
    at = clock.now()
    for _ in range(MAX_REFERENCE_DRAWS):
        change = open_case(
            reference=new_reference(at, settings.reference_prefix), access_token_hash=hash_token(secrets.token_urlsafe(32)),
            submission=submission, channel=Channel.EMAIL, actor=actor, received_at=at,
            received_at_local=at.astimezone(settings.zone))
        files_kept = kept(change.case.reference)
        change = email_files.with_files(change, files_kept)
        why = "; ".join(p for p in (reply.why if reply else None, email_files.summary(files_kept)) if p) or None
        entry = logged(MailOutcome.CASE_CREATED, why, change.case.reference)
        try:
            entry = mail_log.record_case(change, entry, message_id_key=mail.message_id_hash)
            if reply is not None and desk is not None:  # opened instead of going into the case it named: linked
                return replies.link_new_case(entry, reply, repo=desk.repo, at=at)
            return entry
        except ReferenceTaken:
            continue
        except MailAlreadyClaimed as claimed:
            if claimed.ses_message_id_seen:  # a redelivery raced us: its entry is the answer
                return mail_log.get(receipt.ses_message_id) or entry
            return mail_log.record(logged(MailOutcome.DUPLICATE, f"Message-ID {mail.message_id} made a case already",
                                          claimed.case_reference))
    raise RuntimeError(f"could not draw a free reference in {MAX_REFERENCE_DRAWS} tries; the reference space is full")


def verdict_refusal(receipt: Receipt) -> str | None:
    """Why SES's verdicts keep the message out (virus, spam, DMARC failed), or None."""
    for name in ("virus", "spam", "dmarc"):
        if receipt.verdicts.get(name, "PASS").upper() in FAILING_VERDICTS:
            policy = f" (sender's policy: {receipt.dmarc_policy})" if name == "dmarc" and receipt.dmarc_policy else ""
            return f"SES {name} verdict FAIL{policy}"
    return None


def submission_from(mail: InboundMail) -> Submission:
    """The complaint an email makes; raises ``ValueError`` saying what is missing (no sender address...)."""
    if not mail.sender_address:
        raise ValueError("no sender address (From, Sender and Reply-To hold none): nobody to answer")
    name = mail.sender_name or mail.sender_address.partition("@")[0] or "Unknown"
    parts = [p for p in (mail.subject, mail.text) if p.strip()]
    description = "\n\n".join(parts)[:LONG_TEXT_MAX_CHARS] or "(The email had no subject and no text.)"
    try:
        return Submission(complainant=Person(name=name[:200], email=mail.sender_address),
                          product_or_service=NOT_STATED, description=description, remedy_sought="unknown")
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"cannot become a case: {where}: {first['msg']}") from None
