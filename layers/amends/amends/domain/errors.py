"""Domain errors. Each says what went wrong in words a caller can act on; the HTTP layer maps them to
RFC 9457 problem types in one place."""

from __future__ import annotations

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
    def __init__(self, reference: str, action: Any, status: Any) -> None:
        action = getattr(action, "value", action)
        status = getattr(status, "value", status)
        super().__init__(f"Cannot {str(action).replace('_', ' ')} on complaint {reference}: it is {status}.")
        self.reference, self.action, self.status = reference, action, status


class ReasonRequired(DomainError):
    def __init__(self, action: Any) -> None:
        action = getattr(action, "value", action)
        super().__init__(f"A reason is required to {str(action).replace('_', ' ')}.")


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


class InvalidCursor(DomainError):
    def __init__(self) -> None:
        super().__init__("The cursor is not one this API gave out (or it has been altered). "
                         "Start again from the first page, without a cursor.")
