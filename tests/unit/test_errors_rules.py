"""What each domain error says and carries: the words a caller reads (the API shows them as the problem's detail)
and the fields the HTTP layer maps (reference, step, status, the actions left)."""

from __future__ import annotations

from amends.domain.errors import (
    ActionNotAllowed,
    CaseNotFound,
    ConcurrentUpdate,
    Forbidden,
    InvalidCursor,
    InvalidReason,
    NotQuarantined,
    ReasonRequired,
)
from amends.domain.lifecycle import Action, Status
from amends.domain.permissions import Command

REF = "CMP-2026-7K3F9Q"


def test_a_case_not_found_says_what_to_check() -> None:
    error = CaseNotFound("CMP-2026-AAAAAA")
    assert error.reference == "CMP-2026-AAAAAA"
    assert str(error) == ("No complaint with reference CMP-2026-AAAAAA was found. Check the reference (it looks like "
                          "CMP-2026-7K3F9Q) and, for complainants, the access token you were given when you filed it.")


def test_a_concurrent_update_says_to_reload() -> None:
    error = ConcurrentUpdate(REF)
    assert error.reference == REF
    assert str(error) == f"Complaint {REF} was changed by someone else at the same time. Reload it and try again."


def test_an_unknown_cursor_says_to_start_again() -> None:
    assert str(InvalidCursor()) == ("The cursor is not one this API gave out (or it has been altered). "
                                    "Start again from the first page, without a cursor.")


def test_forbidden_says_what_it_was_given() -> None:
    assert str(Forbidden("Only staff can close.")) == "Only staff can close."


def test_a_missing_reason_names_the_step_in_words() -> None:
    assert str(ReasonRequired(Action.RETURN_PROPOSAL)) == "A reason is required to return proposal."
    assert str(ReasonRequired("start_investigation")) == "A reason is required to start investigation."
    assert str(InvalidReason(Action.CLOSE, "Not one of the closure reasons.")) == "Not one of the closure reasons."


def test_a_wrong_step_in_words_and_fields() -> None:
    error = ActionNotAllowed(REF, Action.START_INVESTIGATION, Status.AWAITING_COMPLAINANT)
    assert (error.reference, error.action, error.status) == (REF, "start_investigation", "awaiting_complainant")
    assert type(error.action) is str and type(error.status) is str  # plain values, not the enums
    assert error.allowed_actions == [] and error.why is None
    assert str(error) == f"Cannot start investigation on complaint {REF}: it is awaiting_complainant."


def test_a_wrong_step_with_its_reason_and_the_actions_left() -> None:
    error = ActionNotAllowed(REF, "close", "closed", [Command.ADD_NOTE, "reopen"], why="It is closed already.")
    assert error.allowed_actions == ["add_note", "reopen"]
    assert [type(a) for a in error.allowed_actions] == [str, str]  # plain values, as the API lists them
    assert error.why == "It is closed already."
    assert str(error) == (f"Cannot close on complaint {REF}: it is closed. It is closed already. "
                          "What you can do now: add_note, reopen.")


def test_a_wrong_step_with_nothing_left_to_do_says_so() -> None:
    error = ActionNotAllowed(REF, "assign", "closed", [])
    assert error.allowed_actions == []
    assert str(error) == f"Cannot assign on complaint {REF}: it is closed. There is nothing you can do to it now."


def test_mail_not_in_quarantine_says_what_it_became_and_carries_it() -> None:
    error = NotQuarantined("ses-1", "released")
    assert error.outcome == "released"  # the API's problem names it (outcome)
    assert str(error) == ("Message ses-1 is not in quarantine: it is released. Only quarantined mail can be released "
                          "or discarded.")
