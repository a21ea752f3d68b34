"""What a case must hold in each status. The commands in amends.domain.steps record it; a step that would leave a
case without it is refused, so no path (a bare ``Case.apply`` included) reaches a half-recorded state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from amends.domain.errors import DetailsRequired, OwnerRequired
from amends.domain.lifecycle import Action, Status

if TYPE_CHECKING:
    from amends.domain.model import Case

# Someone is accountable while the case is worked on (7.6).
NEEDS_OWNER = frozenset({Status.INVESTIGATING, Status.AWAITING_COMPLAINANT, Status.RESPONSE_PROPOSED,
                         Status.RESPONSE_APPROVED})
NEEDS: dict[Status, tuple[str, ...]] = {
    Status.ASSESSED: ("assessment",),
    Status.AWAITING_COMPLAINANT: ("information_request",),
    Status.RESPONSE_PROPOSED: ("proposal",),
    Status.RESPONSE_APPROVED: ("proposal",),
    Status.DECISION_COMMUNICATED: ("decision", "reply_due_at"),
    Status.CLOSED: ("closure", "closure_reason"),
}


def check_invariants(case: Case, action: Action | Any, was: Status) -> None:
    """Raise when ``case`` lacks what its status needs; ``action`` taken in status ``was`` led there."""
    if case.status in NEEDS_OWNER and not case.owner:
        # A closed case cannot be assigned, so reopening one that has no owner names the owner in the request.
        how = ("name the owner in the same request (owner): a closed case cannot be assigned"
               if was is Status.CLOSED else "assign the case first, or name the owner in the same request (owner)")
        raise OwnerRequired(case.reference, action, was,
                            why=f"Investigating needs an accountable owner, and this case has none: {how}.")
    missing = [name for name in NEEDS.get(case.status, ()) if getattr(case, name) is None]
    if missing:
        raise DetailsRequired(
            f"A case that is {case.status.value} must have its {' and '.join(missing)}: use the command for "
            f"'{action}' in amends.domain.steps, which records it.")
