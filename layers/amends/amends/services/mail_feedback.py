"""What SES tells us about mail we sent, through the configuration set's event destination: bounces and complaints.

A permanent bounce marks each bounced address undeliverable (the delivery guard then sends it nothing more) and
records the bounce on the case of the message that bounced; a transient one (a full mailbox, a greylisting server)
changes nothing, SES retries it itself. A complaint (the recipient marked our mail as spam) marks the address too: we
must not mail someone who said so, and staff see it on the case. Only the addresses of the message itself are marked,
so a forged notification cannot silence anyone else. Notifications of mail that is not ours, or not about a case,
are acknowledged and ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from amends.domain.clock import Clock
from amends.domain.errors import CaseNotFound
from amends.services.common import with_optimistic_retry
from amends.services.ports import CaseRepository, SentMailStore


@dataclass(frozen=True)
class FeedbackOutcome:
    kind: str  # bounce, complaint, or the event type ignored
    marked: tuple[str, ...]  # addresses marked undeliverable
    case_reference: str | None
    detail: str


def record_feedback(notification: dict[str, Any], *, store: SentMailStore, repo: CaseRepository, clock: Clock,
                    message_id_of: Callable[[str], str] = lambda provider_id: provider_id) -> FeedbackOutcome:
    """``message_id_of`` turns SES's id of the message (``mail.messageId``) into the Message-ID its recipient saw,
    by which the record of sent mail knows it (``adapters.ses.ses_message_id``)."""
    kind = str(notification.get("eventType") or notification.get("notificationType") or "").lower()
    mail = notification.get("mail") or {}
    message_id = str(mail.get("messageId") or "")
    sent = store.find_sent(message_id_of(message_id)) if message_id else None
    if kind == "bounce":
        bounce = notification.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return FeedbackOutcome(kind, (), sent.case_reference if sent else None,
                                   f"{bounce.get('bounceType', 'unknown')} bounce: SES retries it; nothing marked")
        recipients = bounce.get("bouncedRecipients") or []
        why = "bounced ({})".format("; ".join(
            f"{r.get('emailAddress')}: {r.get('status') or '5.0.0'} {r.get('diagnosticCode') or ''}".strip()
            for r in recipients))
    elif kind == "complaint":
        recipients = (notification.get("complaint") or {}).get("complainedRecipients") or []
        feedback = (notification.get("complaint") or {}).get("complaintFeedbackType") or "abuse"
        why = f"complained: marked our mail as spam ({feedback})"
    else:
        return FeedbackOutcome(kind or "unknown", (), None, "not a bounce or a complaint: ignored")
    if sent is None:
        return FeedbackOutcome(kind, (), None, f"about {message_id or 'no message id'}, which is not mail we sent")
    ours = {sent.to.lower()}
    marked = tuple(a for a in {str(r.get("emailAddress") or "").lower() for r in recipients} if a in ours)
    now = clock.now()
    for address in marked:
        store.mark_undeliverable(address, why, now)
    if not sent.case_reference:
        return FeedbackOutcome(kind, marked, None, why)
    summary = f"{kind} of our {sent.kind} <{sent.message_id}>: {why}" + (
        "; address marked undeliverable" if marked else "")

    def attempt() -> None:
        case = repo.get(sent.case_reference)
        repo.record(case.record_bounce(summary, now))

    try:
        with_optimistic_retry(attempt)
    except CaseNotFound:
        return FeedbackOutcome(kind, marked, None, why)
    return FeedbackOutcome(kind, marked, sent.case_reference, summary)
