"""Quarantined mail, reviewed by staff: released (processed again, as if SES had passed it) or discarded.

A message is quarantined when SES's verdicts keep it out (spam, virus, failed DMARC) or when it cannot become a case
(no address to answer). A reviewer who judges it genuine releases it: the raw message goes through ingestion again,
SES's verdicts set aside, under a mail-log entry of its own (``<SES id>.released``, so a second release finds it and
changes nothing), and the quarantined entry becomes ``released``, naming the reviewer, the case and what it became.
A message that still could not become a case is not released: the answer says why, and it stays in quarantine.
Discarding marks the entry ``discarded`` with the reviewer and their reason; the raw message then expires with the
raw-mail bucket's lifecycle. Either way the entry stays in the mail log: nothing that reached the inbox disappears.
"""

from __future__ import annotations

from datetime import UTC

from amends.domain.clock import Clock
from amends.domain.errors import Forbidden, MailNotFound, NotQuarantined, ReleaseRefused
from amends.domain.inbound_mail import read_mail
from amends.domain.mail_log import MailLogEntry, MailOutcome
from amends.domain.model import Actor, Role
from amends.services import email_intake, replies
from amends.services.ports import AttachmentStore, MailLog, RawMailStore
from amends.settings import Settings

# Releasing lets mail SES judged spam, a virus or forged into the case work: a senior decision.
REVIEWERS = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})
RELEASED_SUFFIX = ".released"


def release(ses_message_id: str, actor: Actor, *, mail_log: MailLog, raw_mail: RawMailStore, clock: Clock,
            settings: Settings, desk: replies.MailDesk | None = None,
            files: AttachmentStore | None = None) -> tuple[MailLogEntry, MailLogEntry]:
    """The quarantined entry, now ``released``, and the entry of what the message became on release."""
    entry = _quarantined(ses_message_id, actor, mail_log)
    raw = raw_mail.read(entry.raw_key)
    try:
        email_intake.submission_from(read_mail(raw))
    except ValueError as why:
        raise ReleaseRefused(f"Message {ses_message_id} cannot be processed even released ({why}); it stays in "
                             f"quarantine. Discard it, or answer the sender another way.") from None
    receipt = email_intake.Receipt(ses_message_id=ses_message_id + RELEASED_SUFFIX, raw_key=entry.raw_key,
                                   received_at=entry.received_at, recipients=entry.recipients)
    result = email_intake.ingest(raw, receipt, mail_log=mail_log, clock=clock, settings=settings, desk=desk,
                                 files=files)
    became = f"{result.outcome.value} {result.case_reference}" if result.case_reference else result.outcome.value
    released = entry.model_copy(update={
        "outcome": MailOutcome.RELEASED, "case_reference": result.case_reference,
        "reason": f"released by {actor.id} at {_at(clock)}: {became} (quarantined for: {entry.reason})"})
    return mail_log.settle(released, was=MailOutcome.QUARANTINED), result


def discard(ses_message_id: str, actor: Actor, reason: str | None, *, mail_log: MailLog,
            clock: Clock) -> MailLogEntry:
    entry = _quarantined(ses_message_id, actor, mail_log)
    why = reason.strip() if reason and reason.strip() else "no reason given"
    discarded = entry.model_copy(update={
        "outcome": MailOutcome.DISCARDED,
        "reason": f"discarded by {actor.id} at {_at(clock)}: {why} (quarantined for: {entry.reason})"})
    return mail_log.settle(discarded, was=MailOutcome.QUARANTINED)


def _quarantined(ses_message_id: str, actor: Actor, mail_log: MailLog) -> MailLogEntry:
    if not REVIEWERS & set(actor.roles):
        raise Forbidden("Releasing or discarding quarantined mail is for a supervisor, a manager or an admin.")
    entry = mail_log.get(ses_message_id)
    if entry is None:
        raise MailNotFound(ses_message_id)
    if entry.outcome is not MailOutcome.QUARANTINED:
        raise NotQuarantined(ses_message_id, entry.outcome.value)
    return entry


def _at(clock: Clock) -> str:
    return clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
