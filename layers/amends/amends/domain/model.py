"""The complaint case: what ISO 10002 asks us to record, and every way it may change.

Every change goes through :meth:`Case.transition` (the status), :meth:`Case.apply` (a step that records only a
reason), the commands of :mod:`amends.domain.steps` built on them, or one of the small helpers below; each returns a
:class:`Change`: the new case, exactly one timeline entry, and the domain events to publish. The storage
adapter writes all three in one transaction, so the timeline can never miss a change.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from amends.domain.case_sla import CaseSla
from amends.domain.email_address import EmailAddress, email_address  # noqa: F401 (re-exported)
from amends.domain.errors import ActionNotAllowed, InvalidReason, ReasonRequired
from amends.domain.events import DomainEvent
from amends.domain.handling import (
    SHORT_TEXT_MAX_CHARS,
    Assessment,
    CaseLink,
    Closure,
    ClosureReason,
    Decision,
    InformationRequest,
    Proposal,
)
from amends.domain.invariants import check_invariants
from amends.domain.lifecycle import TRANSITIONS, Action, Status, target_of
from amends.domain.text import LONG_TEXT_MAX_CHARS, CleanText, LongText, reject_unencodable_text  # noqa: F401 (re-exported)
from amends.domain.timers import REPLY_WINDOW, SLA_CHECK, Timer


class Channel(StrEnum):
    WEB = "web"
    MOBILE = "mobile"
    EMAIL = "email"
    PHONE = "phone"
    LETTER = "letter"
    IN_PERSON = "in_person"


class ContactChannel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    POST = "post"
    SMS = "sms"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Role(StrEnum):
    HANDLER = "handler"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: EmailAddress | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    postal_address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class Representative(Person):
    relationship: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = Field(
        description="Who the representative is to the complainant (e.g. 'solicitor', 'daughter', 'advocate')."
    )


class AttachmentMeta(BaseModel):
    """What the complainant says they attached; the bytes travel separately (S3), never through the API body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=127)]
    size_bytes: int = Field(ge=0, le=25 * 1024 * 1024)


class StoredFile(BaseModel):
    """A file that came with the complainant's email, kept for the case: its bytes are in the attachments bucket
    under ``attachments/<reference>/<sha256>``; staff download it through a short-lived link."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=127)]
    size_bytes: int = Field(ge=0)
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    added_at: datetime


class LeftOutFile(BaseModel):
    """A file an email carried that was not kept (over a limit): the raw message still holds it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    filename: str
    size_bytes: int
    why: str


class Consent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    contact: bool = Field(True, description="The complainant agrees to be contacted on their preferred channel.")
    share_with_third_parties: bool = Field(
        False, description="The complainant agrees that details may be shared with third parties involved."
    )


class Submission(CleanText):
    """What a complainant (or someone on their behalf) tells us at receipt (ISO 10002 clause 7.2)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    complainant: Person
    representative: Representative | None = None
    product_or_service: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    account_reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    problem_date: date | None = Field(None, description="When the problem happened, if known.")
    description: LongText
    remedy_sought: LongText = Field(
        description="What the complainant wants done. Required; send 'unknown' if they do not know yet."
    )
    attachments: list[AttachmentMeta] = Field(default_factory=list, max_length=20)
    preferred_contact_channel: ContactChannel = ContactChannel.EMAIL
    preferred_language: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] = "en"
    accessibility_needs: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1_000)] | None = None
    safety_concern: bool = Field(False, description="Someone's health or safety may be at risk: handled urgently.")
    consent: Consent = Field(default_factory=Consent)

    @model_validator(mode="after")
    def _reachable_on_preferred_channel(self) -> Submission:
        contact = self.representative or self.complainant
        needed = {
            ContactChannel.EMAIL: ("email", contact.email),
            ContactChannel.PHONE: ("phone", contact.phone),
            ContactChannel.SMS: ("phone", contact.phone),
            ContactChannel.POST: ("postal_address", contact.postal_address),
        }[self.preferred_contact_channel]
        if not needed[1]:
            who = "representative" if self.representative else "complainant"
            raise ValueError(
                f"preferred_contact_channel is '{self.preferred_contact_channel}' but the {who} has no {needed[0]}; "
                f"give one or choose another channel"
            )
        return self


class Actor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["complainant", "staff", "system"]
    id: str
    roles: tuple[Role, ...] = ()

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(kind="system", id=name)


class EntryKind(StrEnum):
    TRANSITION = "transition"
    ASSIGNMENT = "assignment"
    NOTE = "note"
    MESSAGE = "message"
    LINK = "link"
    ESCALATION = "escalation"


class TimelineEntry(BaseModel):
    """One line of a case's append-only history. ``seq`` equals the case version the change produced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int
    at: datetime
    actor: Actor
    kind: EntryKind
    action: str
    reason: str | None = None
    complainant_visible: bool
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    body: str | None = None


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: str
    access_token_hash: str
    version: int
    status: Status
    channel: Channel
    received_at: datetime
    received_at_local: datetime
    submission: Submission
    priority: Priority
    owner: str | None = None
    updated_at: datetime
    closure_reason: ClosureReason | None = None
    # Handling (7.5-7.9): see amends.domain.handling; the commands that set these are in amends.domain.steps.
    assessment: Assessment | None = None
    information_request: InformationRequest | None = Field(None, description="The open question to the complainant.")
    links: tuple[CaseLink, ...] = ()
    proposal: Proposal | None = Field(None, description="The response proposed now; cleared when returned.")
    decision: Decision | None = Field(None, description="The decision last communicated.")
    reply_due_at: datetime | None = Field(None, description="When the complainant's answer to the decision is due.")
    closure: Closure | None = None
    participants: tuple[str, ...] = Field((), description="Staff who owned the case or took one of its steps.")
    sla: CaseSla | None = Field(None, description="The policy it was opened under and its clock (amends.domain.case_sla).")
    files: tuple[StoredFile, ...] = Field((), description="Files the complainant sent by email, kept for the case.")
    files_left_out: tuple[LeftOutFile, ...] = Field((), description="Files their email carried that were not kept "
                                                                     "(over a limit), with why; they were told.")

    def next_sla_check(self, at: datetime | None = None) -> datetime | None:
        """When the sweep should next look at the case's SLA (its ``sla_check`` timer); None: nothing to look for."""
        if self.sla is None or self.status is Status.CLOSED:
            return None
        category = self.assessment.category if self.assessment else None
        return self.sla.next_check(self.received_at, at or self.updated_at, priority=self.priority.value,
                                   category=category, status=self.status)

    def listing(self) -> CaseListing:
        return CaseListing.model_validate(
            {**self.model_dump(include=set(CaseListing.model_fields)),
             "product_or_service": self.submission.product_or_service})

    # -- changes -------------------------------------------------------------------------------------------------

    def apply(self, action: Action, actor: Actor, at: datetime, reason: str | None = None) -> Change:
        """Move the case along the lifecycle by a step that records no more than a reason.

        Steps that record more (an assessment, a proposal, a decision, a closure) are the commands in
        :mod:`amends.domain.steps`; asked for here, they raise ``DetailsRequired``.
        """
        return self.transition(action, actor, at, reason)

    def transition(
        self,
        action: Action,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        *,
        update: dict[str, Any] | None = None,
        body: str | None = None,
        visible: bool = True,
        events: tuple[tuple[str, dict[str, Any]], ...] = (),
    ) -> Change:
        """The one way the status changes: the transition table, the reason, the rules about persons and time,
        then one timeline entry and ``CaseStatusChanged`` (plus ``events``, as (type, data) pairs)."""
        from amends.domain.permissions import allowed_actions_for, rule_refusal, with_allowed

        target = target_of(action, self.status)
        if target is None:
            raise ActionNotAllowed(self.reference, action, self.status, allowed_actions_for(self, actor, at))
        if TRANSITIONS[action].reason_required and not (reason and reason.strip()):
            raise ReasonRequired(action)
        if reason and len(reason) > REASON_MAX_CHARS:
            raise InvalidReason(action, f"A reason is at most {REASON_MAX_CHARS} characters; this one has "
                                        f"{len(reason)}. Put the detail in a note.")
        if refused := rule_refusal(action, self, actor, at):
            raise with_allowed(refused, self, action, actor, at)
        update = {"status": target, **(update or {})}
        participants = update.get("participants", self.participants)  # with the owner a step names
        if actor.kind == "staff" and actor.id not in participants:
            update["participants"] = (*participants, actor.id)
        change = self._change(
            update, actor, at, EntryKind.TRANSITION, action.value, reason, complainant_visible=visible,
            event_type="CaseStatusChanged", body=body, events=events,
        )
        try:
            change.case.check_invariants(action, was=self.status)
        except ActionNotAllowed as error:
            raise with_allowed(error, self, action, actor, at) from None
        return change

    def assign(self, owner: str, actor: Actor, at: datetime, reason: str | None = None) -> Change:
        """Give the case an owner (services.staff also holds a handler to themselves)."""
        self._authorise("assign", actor, at)
        update: dict[str, Any] = {"owner": owner}
        if owner not in self.participants:
            update["participants"] = (*self.participants, owner)
        return self._change(
            update, actor, at, EntryKind.ASSIGNMENT, "assign", reason, complainant_visible=False,
            event_type="CaseAssigned",
        )

    def add_note(self, body: str, actor: Actor, at: datetime) -> Change:
        self._authorise("add_note", actor, at)
        return self._change(
            {}, actor, at, EntryKind.NOTE, "add_note", None, complainant_visible=False, body=body,
            event_type="InternalNoteAdded",
        )

    def add_message(self, body: str, actor: Actor, at: datetime) -> Change:
        """Information from the complainant; it answers an open question and restarts work waiting for them."""
        self._authorise("add_message", actor, at)
        update: dict[str, Any] = {}
        if self.status is Status.AWAITING_COMPLAINANT:
            update = {"status": target_of(Action.RECEIVE_INFORMATION, self.status), "information_request": None}
        return self._change(
            update, actor, at, EntryKind.MESSAGE, "add_message", None, complainant_visible=True, body=body,
            event_type="MessageAdded",
        )

    def add_link(self, link: CaseLink, actor: Actor, at: datetime, *, body: str | None = None,
                 visible: bool = False) -> Change:
        """A link to another case (``amends.domain.steps.link`` makes both sides; no status change)."""
        return self._change(
            {"links": (*self.links, link)}, actor, at, EntryKind.LINK, "link", None, complainant_visible=visible,
            event_type="CaseLinked", body=body,
            detail={"other_reference": link.reference, "relation": link.relation.value},
        )

    def add_message_after_closure(self, body: str, actor: Actor, at: datetime) -> Change:
        """A complainant's message (a reply by email) to a closed case inside its reopen window: kept on the case and
        flagged for staff (``MessageAddedAfterClosure``), who decide whether to reopen; the status stays closed."""
        if self.status is not Status.CLOSED or self.closure is None or at > self.closure.reopen_until:
            raise ActionNotAllowed(self.reference, "add_message", self.status,
                                   why="Only a closed case inside its reopen window takes a message after closure.")
        return self._change(
            {}, actor, at, EntryKind.MESSAGE, "add_message_after_closure",
            "Received after closure, inside the reopen window: staff to decide whether to reopen",
            complainant_visible=True, body=body, event_type="MessageAddedAfterClosure",
        )

    def record_staff_reply(self, body: str, actor: Actor, at: datetime, *, to: str, message_id: str) -> Change:
        """A reply staff sent by email (services/staff_replies.py sends it first): on the timeline, and shown to the
        complainant on their status page. Whoever may write a note may reply, in any status."""
        self._authorise("add_note", actor, at)
        return self._change(
            {}, actor, at, EntryKind.MESSAGE, "staff_reply", f"Sent by email to {to} as {message_id}",
            complainant_visible=True, body=body, event_type="StaffReplySent",
        )

    def record_bounce(self, summary: str, at: datetime) -> Change:
        """A delivery status notification about mail we sent on this case (staff only; the address is marked
        undeliverable elsewhere, by the mail guard's store)."""
        return self._change(
            {}, Actor.system("mail"), at, EntryKind.NOTE, "record_bounce", summary[:REASON_MAX_CHARS],
            complainant_visible=False, event_type="MailBounced",
        )

    def escalate(self, at: datetime) -> Change | None:
        """The sweep's SLA check: the escalation rules reached by ``at`` and not fired yet, fired in one change (a
        staff-only timeline entry, ``SlaEscalated`` per rule for the notifier, the rules' own actions). None when
        nothing is reached; the change moves the ``sla_check`` timer on to the next rule."""
        if self.sla is None or self.status is Status.CLOSED:
            return None
        category = self.assessment.category if self.assessment else None
        firings = self.sla.firings(self.received_at, at, priority=self.priority.value, category=category,
                                   status=self.status)
        if not firings:
            return None
        update: dict[str, Any] = {"sla": self.sla.fire(firings)}
        kinds = {a.do.value for f in firings for a in f.actions}
        if "raise_priority" in kinds:
            update["priority"] = _RAISED[self.priority]
        if "return_to_queue" in kinds and self.owner is not None:
            update["owner"] = None
        events = tuple(("SlaEscalated", f.model_dump(mode="json") | {"owner": self.owner}) for f in firings)
        events += tuple(("SlaBreached", {"milestone": f.milestone, "rule": f.rule, "level": f.level})
                        for f in firings if any(a.do.value == "emit_event" for a in f.actions))
        return self._change(
            update, Actor.system("sla"), at, EntryKind.ESCALATION, "escalate", " ".join(f.reason for f in firings),
            complainant_visible=False, event_type="CaseEscalated", events=events,
        )

    # -- invariants ----------------------------------------------------------------------------------------------

    def check_invariants(self, action: Action | str, was: Status) -> None:
        """What a case in its status must hold (amends.domain.invariants); raises for a step taken in ``was``."""
        check_invariants(self, action, was)

    # -- helpers -------------------------------------------------------------------------------------------------

    def _authorise(self, command: str, actor: Actor, at: datetime) -> None:
        from amends.domain.permissions import Command, authorise

        authorise(Command(command), self, actor, at)

    def _change(
        self,
        update: dict[str, Any],
        actor: Actor,
        at: datetime,
        kind: EntryKind,
        action: str,
        reason: str | None,
        *,
        complainant_visible: bool,
        event_type: str,
        body: str | None = None,
        events: tuple[tuple[str, dict[str, Any]], ...] = (),
        detail: dict[str, Any] | None = None,
    ) -> Change:
        if self.sla and "status" in update and update["status"] is not self.status:
            step = Action(action) if action in Action._value2member_map_ else None
            update = {**update, "sla": self.sla.after(step, update["status"], at, update.get("closure_reason"))}
        shown = [k for k in update if k not in UNSHOWN]
        before = {k: _plain(getattr(self, k)) for k in shown}
        after = {k: _plain(update[k]) for k in shown}
        new = self.model_copy(update={**update, "version": self.version + 1, "updated_at": at})
        entry = TimelineEntry(
            seq=new.version, at=at, actor=actor, kind=kind, action=action, reason=reason,
            complainant_visible=complainant_visible, before=before, after=after, body=body,
        )
        data: dict[str, Any] = {"action": action, "before": before, "after": after, "reason": reason, **(detail or {})}
        if kind is EntryKind.ASSIGNMENT:
            data["owner"] = new.owner
        first = DomainEvent.new(event_type, new.reference, new.version, actor, at, data)
        more = tuple(DomainEvent.new(type_, new.reference, new.version, actor, at, data) for type_, data in events)
        return Change(case=new, entry=entry, events=(first, *more), expected_version=self.version,
                      timers=_timers_moved(self, new))


def _timers_moved(old: Case, new: Case) -> tuple[Timer, ...]:
    """The case's due dates are its timers: a change that sets, moves or clears one writes the timer with it."""
    timers: tuple[Timer, ...] = ()
    if old.reply_due_at != new.reply_due_at:
        timers += (Timer.cleared(REPLY_WINDOW) if new.reply_due_at is None else Timer.at(REPLY_WINDOW, new.reply_due_at),)
    if (check := new.next_sla_check()) != old.next_sla_check(at=new.updated_at):
        timers += (Timer.cleared(SLA_CHECK) if check is None else Timer.at(SLA_CHECK, check),)
    return timers


UNSHOWN = frozenset({"participants", "sla"})
_RAISED = {Priority.LOW: Priority.NORMAL, Priority.NORMAL: Priority.HIGH, Priority.HIGH: Priority.URGENT,
           Priority.URGENT: Priority.URGENT}  # bookkeeping for the rules, not news for the timeline or the bus
REASON_MAX_CHARS = SHORT_TEXT_MAX_CHARS


class CaseListing(BaseModel):
    """A case as a queue lists it: what tells cases apart, without the submission's free texts."""

    model_config = ConfigDict(frozen=True)

    reference: str
    version: int
    status: Status
    priority: Priority
    owner: str | None = None
    channel: Channel
    product_or_service: str
    received_at: datetime
    updated_at: datetime


def _plain(value: Any) -> Any:
    """A changed field as the timeline and the bus show it: handling records give their summary (no free text)."""
    if isinstance(value, StrEnum):
        return value.value
    if hasattr(value, "summary"):
        return value.summary()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class Change(BaseModel):
    """The result of one command: written atomically, or not at all."""

    model_config = ConfigDict(frozen=True)

    case: Case
    entry: TimelineEntry
    events: tuple[DomainEvent, ...]
    expected_version: int | None  # None: the case must not exist yet
    timers: tuple[Timer, ...] = ()  # set or cleared with the change (domain/timers.py)


def open_case(
    *,
    reference: str,
    access_token_hash: str,
    submission: Submission,
    channel: Channel,
    actor: Actor,
    received_at: datetime,
    received_at_local: datetime,
    sla: CaseSla | None = None,
) -> Change:
    """Receipt (7.2): the first version of a case, its first timeline entry and ``CaseOpened``."""
    priority = Priority.URGENT if submission.safety_concern else Priority.NORMAL
    case = Case(
        reference=reference, access_token_hash=access_token_hash, version=1, status=Status.RECEIVED,
        channel=channel, received_at=received_at, received_at_local=received_at_local, submission=submission,
        priority=priority, updated_at=received_at, sla=sla,
    )
    after = {"status": case.status.value, "priority": priority.value}
    entry = TimelineEntry(
        seq=1, at=received_at, actor=actor, kind=EntryKind.TRANSITION, action=Action.OPEN.value,
        reason=f"Complaint received by {case.channel.value}", complainant_visible=True, before={"status": None},
        after=after,
    )
    event = DomainEvent.new(
        "CaseOpened", reference, 1, actor, received_at,
        {
            "channel": case.channel.value,
            "priority": priority.value,
            "safety_concern": submission.safety_concern,
            "product_or_service": submission.product_or_service,
            "preferred_contact_channel": submission.preferred_contact_channel.value,
            "preferred_language": submission.preferred_language,
            "received_at_local": received_at_local.isoformat(),
            **({"sla_policy": f"{sla.pinned.policy.id} v{sla.pinned.policy.version}"} if sla else {}),
        },
    )
    check = case.next_sla_check()
    return Change(case=case, entry=entry, events=(event,), expected_version=None,
                  timers=(Timer.at(SLA_CHECK, check),) if check else ())
