"""The complaint case: what ISO 10002 asks us to record, and every way it may change.

Every change goes through :meth:`Case.apply` or one of the small helpers built on it, and each returns a
:class:`Change`: the new case, exactly one timeline entry, and the domain events to publish. The storage
adapter writes all three in one transaction, so the timeline can never miss a change.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from amends.domain.errors import ActionNotAllowed, ReasonRequired
from amends.domain.events import DomainEvent
from amends.domain.lifecycle import TRANSITIONS, Action, Status, target_of
from amends.domain.timers import Timer


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


# Free texts people write at length (a description, the remedy sought, a message, a note), in characters.
# Nobody is turned away for writing too much: 100,000 characters is ten times the longest narrative in the CFPB
# sample. How many bytes that makes (up to 4 per character) is the storage adapter's concern, not the model's.
LONG_TEXT_MAX_CHARS = 100_000
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=LONG_TEXT_MAX_CHARS)]


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: EmailStr | None = None
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


class Consent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    contact: bool = Field(True, description="The complainant agrees to be contacted on their preferred channel.")
    share_with_third_parties: bool = Field(
        False, description="The complainant agrees that details may be shared with third parties involved."
    )


def reject_unencodable_text(value: Any) -> Any:
    """Refuse text that is not valid Unicode (a lone surrogate sent as a JSON escape): it cannot be stored."""

    def walk(v: Any, path: str) -> None:
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"{path or 'text'} contains characters that are not valid Unicode") from None
        elif isinstance(v, dict):
            for k, item in v.items():
                walk(k, path)
                walk(item, f"{path}.{k}" if path else str(k))
        elif isinstance(v, list):
            for i, item in enumerate(v):
                walk(item, f"{path}[{i}]")

    walk(value, "")
    return value


class CleanText(BaseModel):
    """Base for models filled from outside: every string in the input must be storable."""

    @model_validator(mode="before")
    @classmethod
    def _encodable(cls, value: Any) -> Any:
        return reject_unencodable_text(value)


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
    closure_reason: str | None = None

    def listing(self) -> CaseListing:
        return CaseListing.model_validate(
            {**self.model_dump(exclude={"submission"}), "product_or_service": self.submission.product_or_service})

    # -- changes -------------------------------------------------------------------------------------------------

    def apply(self, action: Action, actor: Actor, at: datetime, reason: str | None = None) -> Change:
        """Move the case along the lifecycle; raises when the transition table forbids ``action`` here."""
        target = target_of(action, self.status)
        if target is None:
            raise ActionNotAllowed(self.reference, action, self.status)
        if TRANSITIONS[action].reason_required and not (reason and reason.strip()):
            raise ReasonRequired(action)
        update: dict[str, Any] = {"status": target}
        if action is Action.CLOSE:
            update["closure_reason"] = reason
        elif action is Action.REOPEN:
            update["closure_reason"] = None
        return self._change(
            update, actor, at, EntryKind.TRANSITION, action.value, reason, complainant_visible=True,
            event_type="CaseStatusChanged",
        )

    def assign(self, owner: str, actor: Actor, at: datetime, reason: str | None = None) -> Change:
        self._require_open("assign an owner")
        return self._change(
            {"owner": owner}, actor, at, EntryKind.ASSIGNMENT, "assign", reason, complainant_visible=False,
            event_type="CaseAssigned",
        )

    def add_note(self, body: str, actor: Actor, at: datetime) -> Change:
        return self._change(
            {}, actor, at, EntryKind.NOTE, "add_note", None, complainant_visible=False, body=body,
            event_type="InternalNoteAdded",
        )

    def add_message(self, body: str, actor: Actor, at: datetime) -> Change:
        """Information from the complainant; it restarts work that was waiting for them."""
        self._require_open("add a message")
        update: dict[str, Any] = {}
        if self.status is Status.AWAITING_COMPLAINANT:
            update["status"] = Status.INVESTIGATING
        return self._change(
            update, actor, at, EntryKind.MESSAGE, "add_message", None, complainant_visible=True, body=body,
            event_type="MessageAdded",
        )

    # -- helpers -------------------------------------------------------------------------------------------------

    def _require_open(self, what: str) -> None:
        if self.status is Status.CLOSED:
            raise ActionNotAllowed(self.reference, what, self.status)

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
    ) -> Change:
        before = {k: _plain(getattr(self, k)) for k in update}
        after = {k: _plain(v) for k, v in update.items()}
        new = self.model_copy(update={**update, "version": self.version + 1, "updated_at": at})
        entry = TimelineEntry(
            seq=new.version, at=at, actor=actor, kind=kind, action=action, reason=reason,
            complainant_visible=complainant_visible, before=before, after=after, body=body,
        )
        detail: dict[str, Any] = {"action": action, "before": before, "after": after, "reason": reason}
        if kind is EntryKind.ASSIGNMENT:
            detail["owner"] = new.owner
        event = DomainEvent.new(event_type, new.reference, new.version, actor, at, detail)
        return Change(case=new, entry=entry, events=(event,), expected_version=self.version)


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
    return value.value if isinstance(value, StrEnum) else value


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
) -> Change:
    """Receipt (7.2): the first version of a case, its first timeline entry and ``CaseOpened``."""
    priority = Priority.URGENT if submission.safety_concern else Priority.NORMAL
    case = Case(
        reference=reference, access_token_hash=access_token_hash, version=1, status=Status.RECEIVED,
        channel=channel, received_at=received_at, received_at_local=received_at_local, submission=submission,
        priority=priority, updated_at=received_at,
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
        },
    )
    return Change(case=case, entry=entry, events=(event,), expected_version=None)
