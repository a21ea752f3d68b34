"""Messages to complainants. The acknowledgement (7.4) goes out as soon as the case is acknowledged."""

from __future__ import annotations

from dataclasses import dataclass

from amends.domain.deadlines import last_day
from amends.domain.events import DomainEvent
from amends.domain.model import Case, ContactChannel
from amends.domain.outgoing_mail import OutgoingMail
from amends.domain.reference import normalise
from amends.services import email_threads
from amends.services.intake import response_due_by
from amends.services.outbound import MailRefused
from amends.services.ports import CaseRepository, Mailer, SentMailStore
from amends.settings import Settings


@dataclass(frozen=True)
class Outcome:
    sent: bool
    detail: str


def acknowledgement_text(case: Case, settings: Settings) -> tuple[str, str]:
    """Subject and body. Says the reference, when we received it, and when to expect a final response."""
    sub = case.submission
    addressee = (sub.representative or sub.complainant).name
    due = last_day(response_due_by(case, settings).astimezone(settings.zone).replace(tzinfo=None))
    received = case.received_at_local
    subject = f"We have received your complaint {case.reference}"
    body = (
        f"Dear {addressee},\n\n"
        f"Thank you for telling us about your complaint about {sub.product_or_service}. We received it on "
        f"{received:%d %B %Y at %H:%M} ({settings.organisation_time_zone}).\n\n"
        f"Your reference is {case.reference}. Please quote it whenever you contact us; you can also use it, with "
        f"the access token you were given, to see the progress of your complaint at any time.\n\n"
        f"We will send you our final response by {due:%d %B %Y}. If we cannot, we will write before then to "
        f"explain why and to tell you about your right to refer your complaint to the ombudsman.\n\n"
        f"Making a complaint is free of charge.\n"
    )
    return subject, body


def send_acknowledgement(reference: str, *, repo: CaseRepository, mailer: Mailer, settings: Settings,
                         threads: SentMailStore | None = None) -> Outcome:
    case = repo.get(normalise(reference))
    sub = case.submission
    contact = sub.representative or sub.complainant
    if sub.preferred_contact_channel is not ContactChannel.EMAIL or not contact.email:
        return Outcome(False, f"preferred channel is {sub.preferred_contact_channel.value}: sent by staff, not by email")
    if not sub.consent.contact:
        return Outcome(False, "the complainant did not agree to be contacted")
    subject, body = acknowledgement_text(case, settings)
    mail = OutgoingMail(to=contact.email, subject=subject, text=body, reply_to=settings.sender_address,
                        case_reference=case.reference, kind="acknowledgement")
    if threads is not None:  # a reply to the complainant's email, with the case's reply address (email_threads)
        mail = email_threads.threaded(mail, case, store=threads, settings=settings)
    try:
        message_id = mailer.send(mail)
    except MailRefused as refused:
        return Outcome(False, str(refused))
    return Outcome(True, f"sent as {message_id}")


def notify(event: DomainEvent, *, repo: CaseRepository, mailer: Mailer, settings: Settings,
           threads: SentMailStore | None = None) -> Outcome:
    """Which events the complainant hears about, and how. Only the acknowledgement so far."""
    if event.type == "CaseStatusChanged" and event.data.get("action") == "acknowledge":
        return send_acknowledgement(event.case_reference, repo=repo, mailer=mailer, settings=settings, threads=threads)
    return Outcome(False, f"no notification for {event.type}")
