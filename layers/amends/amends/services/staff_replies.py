"""A staff reply to the complainant by email (the issue's point 9): threaded into their conversation, sent through
the delivery guard, then recorded on the timeline (shown on the complainant's status page).

Sent first, recorded after: a reply on the timeline was really sent. If the record then fails for a concurrent
change it is retried on the new version; the email itself is never sent twice by a retry here.
"""

from __future__ import annotations

from amends.domain.clock import Clock
from amends.domain.errors import Forbidden, ReplyNotSent
from amends.domain.model import Actor, Case, TimelineEntry
from amends.domain.outgoing_mail import OutgoingMail
from amends.domain.permissions import Command, role_allows
from amends.domain.reference import normalise
from amends.services import email_threads
from amends.services.common import with_optimistic_retry
from amends.services.outbound import MailRefused
from amends.services.ports import CaseRepository, Mailer, SentMailStore
from amends.settings import Settings


def send_reply(reference: str, text: str, actor: Actor, *, repo: CaseRepository, mailer: Mailer,
               threads: SentMailStore, clock: Clock, settings: Settings) -> tuple[Case, TimelineEntry, OutgoingMail, str]:
    """The case, its new entry, the mail sent and its Message-ID. Raises ``Forbidden``, ``CaseNotFound`` and
    ``ReplyNotSent``."""
    if not role_allows(Command.ADD_NOTE, actor):
        raise Forbidden("Auditors have read-only access; replying needs the handler, supervisor, manager or admin role.")
    case = repo.get(normalise(reference))
    sub = case.submission
    contact = sub.representative or sub.complainant
    if not contact.email:
        raise ReplyNotSent(f"Complaint {case.reference} has no email address for "
                           f"{'the representative' if sub.representative else 'the complainant'}: reply by "
                           f"{sub.preferred_contact_channel.value} instead.")
    if not sub.consent.contact:
        raise ReplyNotSent(f"The complainant of {case.reference} did not agree to be contacted.")
    subject = f"Your complaint {case.reference}"
    mail = email_threads.threaded(
        OutgoingMail(to=contact.email, subject=subject, text=text, automatic=False, case_reference=case.reference,
                     kind="staff_reply"), case, store=threads, settings=settings)
    try:
        message_id = mailer.send(mail)
    except MailRefused as refused:
        raise ReplyNotSent(str(refused)) from None

    def record() -> tuple[Case, TimelineEntry]:
        change = repo.get(case.reference).record_staff_reply(text, actor, clock.now(), to=contact.email or "",
                                                             message_id=message_id)
        repo.record(change)
        return change.case, change.entry

    recorded, entry = with_optimistic_retry(record)
    return recorded, entry, mail, message_id
