"""What a refused half-recorded step says (amends.domain.invariants), word for word.

Pinned down here: a case worked on without an owner is refused with how to give it one (assign it first, or, for
a closed case that cannot be assigned, name the owner in the same request); a status reached without what it
records is refused naming every missing field and the command that records them.
"""

from __future__ import annotations

import pytest
from amends.domain import steps
from amends.domain.errors import DetailsRequired, OwnerRequired
from amends.domain.handling import ClosureReason
from amends.domain.invariants import check_invariants
from amends.domain.lifecycle import Action, Status
from amends.domain.model import Actor

from .cases import HANDLER, POLICY, SUPERVISOR, T0, new_case, walk

# A staff member whose id is empty: the defaults that name an owner leave the case with none.
NOBODY = Actor(kind="staff", id="", roles=("supervisor",))


def test_an_unowned_investigation_is_refused_saying_assign_it_first() -> None:
    with pytest.raises(OwnerRequired) as refused:
        walk(Status.ASSESSED)[0].apply(Action.START_INVESTIGATION, HANDLER, T0)
    assert refused.value.why == ("Investigating needs an accountable owner, and this case has none: assign the "
                                 "case first, or name the owner in the same request (owner).")
    assert (refused.value.action, refused.value.status) == ("start_investigation", "assessed")


def test_an_unowned_reopening_is_refused_saying_name_the_owner_as_it_cannot_be_assigned() -> None:
    closed = steps.close(new_case(), ClosureReason.WITHDRAWN, HANDLER, T0, POLICY).case
    assert closed.owner is None
    with pytest.raises(OwnerRequired) as refused:
        closed.apply(Action.REOPEN, SUPERVISOR, T0, "New evidence")
    assert refused.value.why == ("Investigating needs an accountable owner, and this case has none: name the owner "
                                 "in the same request (owner): a closed case cannot be assigned.")
    assert (refused.value.action, refused.value.status) == ("reopen", "closed")


def test_an_owner_with_no_name_is_no_owner() -> None:
    with pytest.raises(OwnerRequired):
        steps.start_investigation(walk(Status.ASSESSED)[0], NOBODY, T0)


@pytest.mark.parametrize(("status", "action", "missing"), [
    (Status.ACKNOWLEDGED, Action.ASSESS, "assessment"),
    (Status.RESPONSE_APPROVED, Action.COMMUNICATE_DECISION, "decision and reply_due_at"),
    (Status.INVESTIGATING, Action.CLOSE, "closure and closure_reason"),
])
def test_a_status_reached_without_its_details_names_them_and_the_command(status, action, missing) -> None:
    case = walk(status)[0]
    with pytest.raises(DetailsRequired) as refused:
        case.apply(action, HANDLER, T0, "because")
    target = {Action.ASSESS: "assessed", Action.COMMUNICATE_DECISION: "decision_communicated",
              Action.CLOSE: "closed"}[action]
    assert str(refused.value) == (f"A case that is {target} must have its {missing}: use the command for "
                                  f"'{action.value}' in amends.domain.steps, which records it.")


def test_the_check_names_the_case_the_step_and_the_status_it_was_taken_in() -> None:
    unowned = walk(Status.ASSESSED)[0].model_copy(update={"status": Status.INVESTIGATING})
    with pytest.raises(OwnerRequired) as refused:
        check_invariants(unowned, Action.START_INVESTIGATION, Status.ASSESSED)
    assert (refused.value.reference, refused.value.action, refused.value.status) == (
        "CMP-2026-7K3F9Q", "start_investigation", "assessed")
