"""What the complainant sees of their complaint: all they submitted, nothing internal."""

from __future__ import annotations

from datetime import date, timedelta

from amends.api.schemas.public import ComplainantCaseView, NextStepView, complainant_view
from amends.domain.lifecycle import Action
from amends.domain.model import Actor, AttachmentMeta, ContactChannel, Person

from .conftest import T0, make_submission

NEXT = NextStepView(what="We will acknowledge your complaint.")

SUPERVISOR = Actor(kind="staff", id="sup-1", roles=("supervisor",))
OWNER = "handler-owner-7Q"
NOTE = "INTERNAL: the branch manager admits the fee was wrong"
ASSIGN_REASON = "Payments specialist, staff only"


def worked_case(opened):
    """A case with a message, an owner, an internal note and a transition: every kind of entry."""
    changes = [opened]
    for step in (
        lambda c: c.apply(Action.ACKNOWLEDGE, Actor.system("lifecycle"), T0),
        lambda c: c.assign(OWNER, SUPERVISOR, T0, ASSIGN_REASON),
        lambda c: c.add_note(NOTE, SUPERVISOR, T0),
        lambda c: c.add_message("Here is the receipt number 4411.", Actor(kind="complainant", id="c"), T0),
    ):
        changes.append(step(changes[-1].case))
    return changes[-1].case, [c.entry for c in changes]


def test_the_view_shows_what_the_complainant_submitted(opened) -> None:
    submission = make_submission(
        complainant=Person(name="Ada Lovelace", email="ada@example.com", phone="+44 20 7946 0000"),
        description="Charged twice.\n\nSee the statement of 2 November.", remedy_sought="Refund the duplicate",
        problem_date=date(2026, 11, 2), account_reference="ACC-991",
        attachments=[AttachmentMeta(filename="statement.pdf", content_type="application/pdf", size_bytes=1234)],
        preferred_contact_channel=ContactChannel.PHONE, preferred_language="cy", safety_concern=True,
        accessibility_needs="Large print",
    )
    case = opened.case.model_copy(update={"submission": submission})
    view = complainant_view(case, [opened.entry], T0 + timedelta(days=56), NEXT)
    assert view.description == submission.description and view.remedy_sought == "Refund the duplicate"
    assert view.product_or_service == submission.product_or_service
    assert view.problem_date == date(2026, 11, 2) and view.account_reference == "ACC-991"
    assert view.attachments == submission.attachments
    assert view.preferred_contact_channel is ContactChannel.PHONE and view.preferred_language == "cy"
    assert view.safety_concern is True
    shown = view.model_dump_json()
    for private in ("ada@example.com", "+44 20 7946 0000", "Large print", opened.case.access_token_hash):
        assert private not in shown  # contact details and needs stay with staff: the token is all it takes


def test_internal_notes_owners_and_staff_only_entries_never_reach_the_complainant(opened) -> None:
    case, timeline = worked_case(opened)
    assert case.owner == OWNER and any(not e.complainant_visible for e in timeline)
    # Given the whole timeline, not only what the service lets through: the view itself filters.
    view = complainant_view(case, timeline, T0 + timedelta(days=56), NEXT)
    shown = view.model_dump_json()
    for internal in (NOTE, OWNER, ASSIGN_REASON, SUPERVISOR.id, "owner"):
        assert internal not in shown
    assert [i.what for i in view.timeline] == ["Complaint received", "Acknowledgement sent", "You added information"]
    assert view.timeline[-1].message == "Here is the receipt number 4411."
    assert set(ComplainantCaseView.model_fields).isdisjoint({"owner", "priority", "submission", "closure_reason"})
