"""The ISO 10002 case lifecycle, declared as data.

The table below is the single statement of which state changes exist; the case model, the
property tests and (in later work) the Step Functions definition are checked against it.
Nothing here knows about storage, HTTP or AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    RECEIVED = "received"  # 7.2 receipt: reference issued, nothing else done yet
    ACKNOWLEDGED = "acknowledged"  # 7.4 acknowledgement sent with the expected time frame
    ASSESSED = "assessed"  # 7.5 severity, impact, priority decided
    INVESTIGATING = "investigating"  # 7.6 an accountable owner is working on it
    AWAITING_COMPLAINANT = "awaiting_complainant"  # 7.6 information requested; the SLA clock pauses
    RESPONSE_PROPOSED = "response_proposed"  # 7.7 remedy proposed, may need a second pair of eyes
    RESPONSE_APPROVED = "response_approved"  # 7.7 four-eyes approval given
    DECISION_COMMUNICATED = "decision_communicated"  # 7.8 decision sent with reasons and recourse
    INTERNAL_REVIEW = "internal_review"  # 7.9 complainant rejected the decision: second tier
    CLOSED = "closed"  # 7.9 closed with a reason; may be reopened within a window


OPEN_STATUSES: frozenset[Status] = frozenset(s for s in Status if s is not Status.CLOSED)


class Action(StrEnum):
    OPEN = "open"
    ACKNOWLEDGE = "acknowledge"
    ASSESS = "assess"
    START_INVESTIGATION = "start_investigation"
    REQUEST_INFORMATION = "request_information"
    RECEIVE_INFORMATION = "receive_information"
    PROPOSE_RESPONSE = "propose_response"
    APPROVE_RESPONSE = "approve_response"
    RETURN_PROPOSAL = "return_proposal"
    COMMUNICATE_DECISION = "communicate_decision"
    REQUEST_REVIEW = "request_review"
    CONCLUDE_REVIEW = "conclude_review"
    CLOSE = "close"
    REOPEN = "reopen"


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[Status | None]
    target: Status
    reason_required: bool = False


S = Status
TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        Transition(Action.OPEN, frozenset({None}), S.RECEIVED),
        Transition(Action.ACKNOWLEDGE, frozenset({S.RECEIVED}), S.ACKNOWLEDGED),
        # A safety issue may be assessed before the acknowledgement has gone out.
        Transition(Action.ASSESS, frozenset({S.RECEIVED, S.ACKNOWLEDGED}), S.ASSESSED),
        Transition(Action.START_INVESTIGATION, frozenset({S.ASSESSED}), S.INVESTIGATING),
        Transition(Action.REQUEST_INFORMATION, frozenset({S.INVESTIGATING}), S.AWAITING_COMPLAINANT, reason_required=True),
        Transition(Action.RECEIVE_INFORMATION, frozenset({S.AWAITING_COMPLAINANT}), S.INVESTIGATING),
        Transition(Action.PROPOSE_RESPONSE, frozenset({S.INVESTIGATING}), S.RESPONSE_PROPOSED, reason_required=True),
        Transition(Action.APPROVE_RESPONSE, frozenset({S.RESPONSE_PROPOSED}), S.RESPONSE_APPROVED),
        Transition(Action.RETURN_PROPOSAL, frozenset({S.RESPONSE_PROPOSED, S.RESPONSE_APPROVED}), S.INVESTIGATING,
                   reason_required=True),
        Transition(Action.COMMUNICATE_DECISION, frozenset({S.RESPONSE_PROPOSED, S.RESPONSE_APPROVED}),
                   S.DECISION_COMMUNICATED),
        Transition(Action.REQUEST_REVIEW, frozenset({S.DECISION_COMMUNICATED}), S.INTERNAL_REVIEW, reason_required=True),
        # The reviewer's conclusion is the final decision itself: a proposal during the review would let someone
        # involved draft it and send it as a first decision (steps.conclude_review).
        Transition(Action.CONCLUDE_REVIEW, frozenset({S.INTERNAL_REVIEW}), S.DECISION_COMMUNICATED),
        # Withdrawn, duplicate, referred, no reply... can end a case from any open state, always with a reason.
        Transition(Action.CLOSE, OPEN_STATUSES, S.CLOSED, reason_required=True),
        Transition(Action.REOPEN, frozenset({S.CLOSED}), S.INVESTIGATING, reason_required=True),
    )
}


def allowed_actions(status: Status | None) -> list[Action]:
    """Actions that may be taken from ``status`` (``None`` means: no case yet)."""
    return [a for a, t in TRANSITIONS.items() if status in t.sources]


def target_of(action: Action, status: Status | None) -> Status | None:
    """The state ``action`` leads to from ``status``, or ``None`` when the table forbids it."""
    t = TRANSITIONS[action]
    return t.target if status in t.sources else None


# What each state means, in words a complainant understands (shown on the status page).
STATUS_DESCRIPTIONS: dict[Status, str] = {
    Status.RECEIVED: "We have received your complaint and given it a reference.",
    Status.ACKNOWLEDGED: "We have acknowledged your complaint and will look into it.",
    Status.ASSESSED: "We have assessed your complaint and decided how to handle it.",
    Status.INVESTIGATING: "We are investigating your complaint.",
    Status.AWAITING_COMPLAINANT: "We have asked you for more information; the time we take is paused until you reply.",
    Status.RESPONSE_PROPOSED: "We are preparing our response.",
    Status.RESPONSE_APPROVED: "Our response has been approved and will be sent to you shortly.",
    Status.DECISION_COMMUNICATED: "We have sent you our decision.",
    Status.INTERNAL_REVIEW: "Your complaint is being reviewed again by someone not involved before.",
    Status.CLOSED: "Your complaint is closed.",
}
