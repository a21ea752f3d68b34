"""Which case events send which mail to whom: complainants (7.4, 7.8) and staff (assignment, escalations).

Every message is rendered from the template files (services/mail_templates.py) in the complainant's language, or the
default one for staff, and goes through the mailer the caller gives, which in the functions is the delivery guard
(``wiring.outbound()``). Mail to a complainant is only sent by email with their consent, and joins the case's email
thread; staff addresses come from the user pool (``StaffDirectory``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from amends.domain.deadlines import last_day
from amends.domain.escalation import ActionKind, Firing
from amends.domain.events import DomainEvent
from amends.domain.model import Case, ContactChannel
from amends.domain.outgoing_mail import OutgoingMail
from amends.domain.reference import normalise
from amends.services import email_threads
from amends.services.intake import response_due_by
from amends.services.mail_templates import MailTemplates, shipped
from amends.services.outbound import MailRefused
from amends.services.ports import CaseRepository, Mailer, SentMailStore, StaffDirectory, StaffMember
from amends.settings import Settings

# Lifecycle steps the complainant hears about (besides the acknowledgement, the decision and a request for
# information, which have mail of their own): the template says what each means for them.
STATUS_UPDATES = ("start_investigation", "receive_information", "close", "reopen")


@dataclass(frozen=True)
class Outcome:
    sent: bool
    detail: str


@dataclass(frozen=True)
class _Context:
    mailer: Mailer
    settings: Settings
    threads: SentMailStore | None
    staff: StaffDirectory | None
    templates: MailTemplates
    event_id: str | None = None  # the event the letters answer: with the kind and addressee, each letter's key

    def letter(self, kind: str, to: str) -> str | None:
        return f"{self.event_id}/{kind}/{to.casefold()}" if self.event_id else None


def _templates(settings: Settings) -> MailTemplates:
    return shipped(settings.default_language)


# -- to the complainant -----------------------------------------------------------------------------------------

def _due_date(case: Case, settings: Settings) -> Any:
    return last_day(response_due_by(case, settings).astimezone(settings.zone).replace(tzinfo=None))


def _base(case: Case, settings: Settings) -> dict[str, Any]:
    sub = case.submission
    return {"addressee": (sub.representative or sub.complainant).name, "reference": case.reference,
            "product": sub.product_or_service, "zone": settings.organisation_time_zone}


def acknowledgement_text(case: Case, settings: Settings, templates: MailTemplates | None = None) -> tuple[str, str]:
    """Subject and body. Says the reference, when we received it, and when to expect a final response."""
    rendered = (templates or _templates(settings)).render("acknowledgement", case.submission.preferred_language,
                                                          **_acknowledgement(case, settings))
    return rendered.subject, rendered.text


def _acknowledgement(case: Case, settings: Settings) -> dict[str, Any]:
    return {**_base(case, settings), "received": case.received_at_local, "due": _due_date(case, settings),
            "files_left_out": [(f.filename, f.why) for f in case.files_left_out]}


def _to_complainant(case: Case, kind: str, context: dict[str, Any], c: _Context) -> Outcome:
    sub = case.submission
    contact = sub.representative or sub.complainant
    if sub.preferred_contact_channel is not ContactChannel.EMAIL or not contact.email:
        return Outcome(False, f"preferred channel is {sub.preferred_contact_channel.value}: sent by staff, not by email")
    if not sub.consent.contact:
        return Outcome(False, "the complainant did not agree to be contacted")
    rendered = c.templates.render(kind, sub.preferred_language, **context)
    mail = OutgoingMail(to=contact.email, subject=rendered.subject, text=rendered.text, html=rendered.html,
                        reply_to=c.settings.sender_address, case_reference=case.reference, kind=kind,
                        letter=c.letter(kind, contact.email))
    if c.threads is not None:  # a reply to the complainant's email, with the case's reply address (email_threads)
        mail = email_threads.threaded(mail, case, store=c.threads, settings=c.settings)
    return _send(c.mailer, mail)


def _send(mailer: Mailer, mail: OutgoingMail) -> Outcome:
    try:
        message_id = mailer.send(mail)
    except MailRefused as refused:
        return Outcome(False, str(refused))
    return Outcome(True, f"sent as {message_id}")


def send_acknowledgement(reference: str, *, repo: CaseRepository, mailer: Mailer, settings: Settings,
                         threads: SentMailStore | None = None) -> Outcome:
    case = repo.get(normalise(reference))
    c = _Context(mailer, settings, threads, None, _templates(settings))
    return _to_complainant(case, "acknowledgement", _acknowledgement(case, settings), c)


def _decision(event: DomainEvent, case: Case, c: _Context) -> Outcome:
    decision = case.decision
    if decision is None:
        return Outcome(False, "the case holds no decision")
    remedies = [{"kind": r.kind.value, "amount": r.amount, "currency": r.currency, "description": r.description}
                for r in decision.remedies]
    external = decision.recourse.external
    reply_due = case.reply_due_at.astimezone(c.settings.zone) if case.reply_due_at and not decision.final else None
    return _to_complainant(case, "decision", {
        **_base(case, c.settings), "outcome": decision.outcome.value, "final": decision.final,
        "reasons": decision.reasons, "actions_taken": list(decision.actions_taken), "remedies": remedies,
        "reply_due": reply_due, "external_body": external.body, "external_time_limit": external.time_limit,
        "external_details": external.details}, c)


def _status_changed(event: DomainEvent, case: Case, c: _Context) -> Outcome:
    action = event.data.get("action")
    if action == "acknowledge":
        return _to_complainant(case, "acknowledgement", _acknowledgement(case, c.settings), c)
    if action == "request_information":
        asked = case.information_request.question if case.information_request else event.data.get("reason")
        return _to_complainant(case, "information_requested", {**_base(case, c.settings), "question": asked}, c)
    if action in STATUS_UPDATES:
        due = None if action == "close" else _due_date(case, c.settings)
        return _to_complainant(case, "status_update", {**_base(case, c.settings), "action": action, "due": due}, c)
    return Outcome(False, "no notification for CaseStatusChanged")


def _holding_reply(case: Case, c: _Context) -> Outcome:
    return _to_complainant(case, "holding_reply", {**_base(case, c.settings), "due": _due_date(case, c.settings),
                                                   "recourse": c.settings.external_recourse}, c)


# -- to staff -----------------------------------------------------------------------------------------------------

def _to_staff(people: list[StaffMember], kind: str, context: dict[str, Any], case: Case, c: _Context) -> list[Outcome]:
    out = []
    for person in {p.email.casefold(): p for p in people}.values():  # one letter per address
        rendered = c.templates.render(kind, None, recipient=person.name or person.id, **context)
        mail = OutgoingMail(to=person.email, subject=rendered.subject, text=rendered.text, html=rendered.html,
                            reply_to=c.settings.sender_address, case_reference=case.reference, kind=f"staff_{kind}",
                            letter=c.letter(f"staff_{kind}", person.email), to_staff=True)
        sent = _send(c.mailer, mail)
        out.append(Outcome(sent.sent, f"{kind} to {person.email}: {sent.detail}"))
    return out


def _staff_context(case: Case, c: _Context) -> dict[str, Any]:
    return {"reference": case.reference, "product": case.submission.product_or_service,
            "priority": case.priority.value, "status": case.status.value, "zone": c.settings.organisation_time_zone,
            "due": response_due_by(case, c.settings).astimezone(c.settings.zone)}


def _assigned(event: DomainEvent, case: Case, c: _Context) -> Outcome:
    owner = event.data.get("owner")
    if not owner:
        return Outcome(False, "no owner to tell")
    if event.actor.kind == "staff" and event.actor.id == owner:
        return Outcome(False, f"{owner} took the case themselves")
    person = c.staff.member(owner) if c.staff else None
    if person is None:
        return Outcome(False, f"no address for {owner} in the staff directory")
    assigned_by = event.actor.id if event.actor.kind == "staff" else None
    return _combined(_to_staff([person], "assigned", {**_staff_context(case, c), "assigned_by": assigned_by,
                                                       "reason": event.data.get("reason")}, case, c))


def _escalated(event: DomainEvent, case: Case, c: _Context) -> Outcome:
    """One escalation rule reached (SlaEscalated): its notify actions say who hears, at risk or breached."""
    firing = Firing.model_validate(event.data)
    owner = event.data.get("owner")
    outcomes, missing = [], []
    staff_people: list[StaffMember] = []
    for action in firing.actions:
        match action.do:
            case ActionKind.NOTIFY_COMPLAINANT:
                outcomes.append(_holding_reply(case, c))
            case ActionKind.NOTIFY_PERSON:
                staff_people.append(StaffMember(id=action.address or "", email=action.address or ""))
            case ActionKind.NOTIFY_ROLE | ActionKind.NOTIFY_OWNER:
                found, who = _staff_for(action.role if action.do is ActionKind.NOTIFY_ROLE else None, owner, c)
                staff_people += found
                if not found:
                    missing.append(who)
    breached = firing.milestone in (case.sla.breached if case.sla else ()) or _overdue_rule(case, firing)
    status = next((s for s in (case.sla.statuses(case.received_at, event.occurred_at) if case.sla else ())
                   if s.name == firing.milestone), None)
    context = {**_staff_context(case, c), "owner": owner, "milestone": firing.milestone.replace("_", " "),
               "rule": firing.rule, "level": firing.level, "reason": firing.reason,
               "due": status.due_at.astimezone(c.settings.zone) if status and status.due_at else None}
    if staff_people:
        outcomes += _to_staff(staff_people, "breached" if breached else "at_risk", context, case, c)
    outcomes += [Outcome(False, f"no address for {who}") for who in missing]
    return _combined(outcomes) if outcomes else Outcome(False, f"escalation {firing.key} notifies no one")


def _overdue_rule(case: Case, firing: Firing) -> bool:
    rules = case.sla.escalation if case.sla else ()
    return any(r.id == firing.rule and r.level == firing.level and r.overdue_by_hours is not None for r in rules)


def _staff_for(role: str | None, owner: str | None, c: _Context) -> tuple[list[StaffMember], str]:
    """A role's members, or the owner (the supervisors when the case has none)."""
    if c.staff is None:
        return [], "staff (no staff directory)"
    if role is None and owner:
        person = c.staff.member(owner)
        return ([person] if person else []), f"the owner {owner}"
    role = role or "supervisor"
    return c.staff.with_role(role), f"role {role}"


def _combined(outcomes: list[Outcome]) -> Outcome:
    return Outcome(any(o.sent for o in outcomes), "; ".join(o.detail for o in outcomes))


# -- the events the notifier handles ------------------------------------------------------------------------------

HANDLERS: dict[str, Callable[[DomainEvent, Case, _Context], Outcome]] = {
    "CaseStatusChanged": _status_changed,
    "DecisionCommunicated": _decision,
    "CaseAssigned": _assigned,
    "SlaEscalated": _escalated,
}


def notify(event: DomainEvent, *, repo: CaseRepository, mailer: Mailer, settings: Settings,
           threads: SentMailStore | None = None, staff: StaffDirectory | None = None,
           templates: MailTemplates | None = None) -> Outcome:
    """The mail ``event`` sends, if any (``HANDLERS``; template.yaml's NotificationsRule lets exactly these in)."""
    handler = HANDLERS.get(event.type)
    if handler is None:
        return Outcome(False, f"no notification for {event.type}")
    if event.type == "CaseStatusChanged" and event.data.get("action") in ("communicate_decision", "conclude_review"):
        return Outcome(False, "the decision is sent on DecisionCommunicated")
    case = repo.get(normalise(event.case_reference))
    return handler(event, case, _Context(mailer, settings, threads, staff, templates or _templates(settings),
                                         event_id=event.event_id))
