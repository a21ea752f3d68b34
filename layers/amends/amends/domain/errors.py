"""Domain errors. Each says what went wrong in words a caller can act on; the HTTP layer maps them to
RFC 9457 problem types in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    """Base of every error a caller can cause; never a bug."""


class CaseNotFound(DomainError):
    def __init__(self, reference: str) -> None:
        super().__init__(
            f"No complaint with reference {reference} was found. Check the reference (it looks like "
            f"CMP-2026-7K3F9Q) and, for complainants, the access token you were given when you filed it."
        )
        self.reference = reference


class ActionNotAllowed(DomainError):
    """The case's state does not allow this now. Carries the status and the actions the caller may take instead."""

    def __init__(self, reference: str, action: Any, status: Any, allowed_actions: Sequence[Any] | None = None,
                 why: str | None = None) -> None:
        action = getattr(action, "value", action)
        status = getattr(status, "value", status)
        self.reference, self.action, self.status = reference, action, status
        self.allowed_actions = [getattr(a, "value", a) for a in allowed_actions or ()]
        self.why = why
        message = f"Cannot {str(action).replace('_', ' ')} on complaint {reference}: it is {status}."
        if why:
            message += f" {why}"
        if allowed_actions is not None:
            message += (f" What you can do now: {', '.join(self.allowed_actions)}." if self.allowed_actions
                        else " There is nothing you can do to it now.")
        super().__init__(message)


class OwnerRequired(ActionNotAllowed):
    """Investigating needs someone accountable (7.6)."""


class ApprovalRequired(ActionNotAllowed):
    """The proposed response needs a second pair of eyes before it is sent (7.7)."""


class ReopenWindowClosed(ActionNotAllowed):
    """Closed for longer than the reopen window: a new complaint instead."""


class ReasonRequired(DomainError):
    def __init__(self, action: Any, message: str | None = None) -> None:
        super().__init__(message or f"A reason is required to {str(action).replace('_', ' ')}.")


class InvalidReason(ReasonRequired):
    """A reason was given but cannot be used (too long, or not one of a fixed list)."""


class DetailsRequired(DomainError):
    """A step that records more than a reason (an assessment, a proposal, a decision, a closure) was asked for
    without it."""


class ConcurrentUpdate(DomainError):
    """Someone else changed the case between our read and our write (optimistic locking)."""

    def __init__(self, reference: str) -> None:
        super().__init__(
            f"Complaint {reference} was changed by someone else at the same time. Reload it and try again."
        )
        self.reference = reference


class Forbidden(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message)


class FourEyesRequired(Forbidden):
    """The person who proposed a response may not approve it."""


class NotUninvolved(Forbidden):
    """An internal review is concluded only by someone who took no part in the case."""


class InvalidLink(DomainError):
    """A link to a case that cannot be linked (itself, one already linked, a closed case to merge into)."""


class InvalidCursor(DomainError):
    def __init__(self) -> None:
        super().__init__("The cursor is not one this API gave out (or it has been altered). "
                         "Start again from the first page, without a cursor.")


class ReplyNotSent(DomainError):
    """A staff reply by email was not sent: no address, no consent to contact, or the delivery guard refused
    (an undeliverable address). Nothing was recorded."""


class MailNotFound(DomainError):
    def __init__(self, ses_message_id: str) -> None:
        super().__init__(f"No inbound message with id {ses_message_id} is in the mail log. Take the ses_message_id "
                         f"of an entry from GET /staff/mail.")


class NotQuarantined(DomainError):
    """Only quarantined mail is released or discarded; this message became something else (its outcome)."""

    def __init__(self, ses_message_id: str, outcome: str) -> None:
        super().__init__(f"Message {ses_message_id} is not in quarantine: it is {outcome}. Only quarantined mail can "
                         f"be released or discarded.")
        self.outcome = outcome


class ReleaseRefused(DomainError):
    """Released, the message still could not be processed (no sender to answer...): it stays in quarantine."""


class AttachmentNotFound(DomainError):
    def __init__(self, reference: str, sha256: str) -> None:
        super().__init__(f"Complaint {reference} has no file with SHA-256 {sha256}. GET /staff/cases/{reference}/"
                         f"attachments lists its files.")


class RequestKeyReused(DomainError):
    """An Idempotency-Key that filed a complaint came again with another request: it files nothing. The message does
    not name the complaint the key filed (whoever holds the key can get it with the same request)."""

    MESSAGE = ("This Idempotency-Key was already used with a different request body. Use a new key (a fresh UUID) "
               "for a new complaint, or resend exactly the same body to get the original answer.")

    def __init__(self, reference: str) -> None:
        super().__init__(self.MESSAGE)
        self.reference = reference
