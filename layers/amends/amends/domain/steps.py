"""The handling commands (ISO 10002 7.5-7.9): each checks who may take it and when (amends.domain.permissions),
validates what it records, then makes one transition, so each returns exactly one Change (a merge: one per case).

Texts the complainant or staff write at length travel in the entry's body, never in the before/after maps that the
bus carries. Entries of internal steps (a proposal, its approval or return) are not shown to the complainant.
"""

from __future__ import annotations

from datetime import datetime

from amends.domain.errors import InvalidLink, InvalidReason
from amends.domain.handling import (
    MAX_LINKS,
    SHORT_TEXT_MAX_CHARS,
    Assessment,
    CaseLink,
    Closure,
    ClosureReason,
    Decision,
    Findings,
    HandlingPolicy,
    InformationRequest,
    LinkRelation,
    Proposal,
    Recourse,
    ResponseContent,
    Severity,
    closure_reason_for,
)
from amends.domain.lifecycle import Action, Status
from amends.domain.model import Actor, Case, Change, Priority
from amends.domain.permissions import Command, assignment_refusal, authorise
from amends.domain.priority import PriorityRules


def assess(case: Case, findings: Findings, actor: Actor, at: datetime, rules: PriorityRules) -> Change:
    """7.5: record the assessment; the priority follows from it by the rules. Becoming urgent raises
    ``UrgentCaseFlagged`` (a safety risk always makes a case urgent)."""
    authorise(Command.ASSESS, case, actor, at)
    assessment = Assessment(**findings.model_dump(), assessed_by=actor.id, assessed_at=at)
    priority = rules.priority_for(findings)
    events = ()
    if priority is Priority.URGENT and case.priority is not Priority.URGENT:
        events = (("UrgentCaseFlagged", {
            "priority_before": case.priority.value, "priority": priority.value, "safety_risk": findings.safety_risk,
            "severity": findings.severity.value, "immediate_action": findings.immediate_action,
            "category": findings.category,
        }),)
    return case.transition(Action.ASSESS, actor, at, update={"assessment": assessment, "priority": priority},
                           events=events)


def start_investigation(case: Case, actor: Actor, at: datetime, owner: str | None = None) -> Change:
    """7.6: needs an accountable owner: the one named here (who is then assigned), else the case's, else the person
    starting it, who becomes accountable. Without that last default the step offered in allowed_actions on a case
    nobody has taken would be refused for want of an owner."""
    authorise(Command.START_INVESTIGATION, case, actor, at)
    owner = owner or case.owner or actor.id
    update: dict = {}
    if owner != case.owner:
        if refused := assignment_refusal(actor, owner):
            raise refused
        update = {"owner": owner, "participants": _with(case.participants, owner)}
    return case.transition(Action.START_INVESTIGATION, actor, at, update=update)


def request_information(case: Case, question: str, actor: Actor, at: datetime) -> Change:
    """7.6: ask the complainant; the case waits for them, and their next message resumes it."""
    authorise(Command.REQUEST_INFORMATION, case, actor, at)
    request = InformationRequest(question=_short(question, Action.REQUEST_INFORMATION), asked_by=actor.id, asked_at=at)
    return case.transition(Action.REQUEST_INFORMATION, actor, at, "We need more information from you",
                           update={"information_request": request}, body=request.question)


def link(case: Case, other: Case, relation: LinkRelation, actor: Actor, at: datetime,
         policy: HandlingPolicy) -> tuple[Change, Change]:
    """Link two cases. ``related``: both get a link (staff-only entries: the other is someone else's complaint).
    ``duplicate_of``: this case is closed as a duplicate and merged into ``other``; both timelines say so, and the
    complainant of this one is told where it went (``CaseMerged``)."""
    authorise(Command.LINK, case, actor, at)
    if other.reference == case.reference:
        raise InvalidLink(f"Complaint {case.reference} cannot be linked to itself.")
    if any(existing.reference == other.reference for existing in case.links):
        raise InvalidLink(f"Complaint {case.reference} is already linked to {other.reference}.")
    if len(case.links) >= MAX_LINKS or len(other.links) >= MAX_LINKS:
        raise InvalidLink(f"A complaint can have at most {MAX_LINKS} links.")

    def link_to(target: Case, rel: LinkRelation) -> CaseLink:
        return CaseLink(reference=target.reference, relation=rel, linked_by=actor.id, linked_at=at)

    if relation is LinkRelation.RELATED:
        return case.add_link(link_to(other, relation), actor, at), other.add_link(link_to(case, relation), actor, at)
    if relation is not LinkRelation.DUPLICATE_OF:
        raise InvalidLink(f"Link as related or duplicate_of, not {relation.value}.")
    if other.status is Status.CLOSED:
        raise InvalidLink(f"Complaint {other.reference} is closed, so nothing can be merged into it: reopen it "
                          f"first, or link the two as related.")
    authorise(Command.CLOSE, case, actor, at)
    closed = case.transition(
        Action.CLOSE, actor, at, ClosureReason.DUPLICATE.value,
        update={**_closing(ClosureReason.DUPLICATE, actor, at, policy, merged_into=other.reference),
                "links": (*case.links, link_to(other, LinkRelation.DUPLICATE_OF))},
        body=f"This complaint is the same as complaint {other.reference}, so we have merged it into that one: it "
             f"will be handled and answered there.",
        events=(("CaseMerged", {"merged_into": other.reference}),),
    )
    kept = other.add_link(link_to(case, LinkRelation.MERGED_FROM), actor, at, visible=True,
                          body=f"Complaint {case.reference} was the same as this one and has been merged into it.")
    return closed, kept


def propose_response(case: Case, content: ResponseContent, actor: Actor, at: datetime,
                     policy: HandlingPolicy) -> Change:
    """7.7: outcome, reasons, actions, remedies. It needs approval (four eyes) above the money threshold or for a
    complaint assessed as high or critical."""
    authorise(Command.PROPOSE_RESPONSE, case, actor, at)
    content = content.content()
    reasons = approval_reasons(case, content, policy)
    proposal = Proposal(**content.model_dump(), proposed_by=actor.id, proposed_at=at, needs_approval=bool(reasons),
                        approval_reasons=reasons)
    return case.transition(Action.PROPOSE_RESPONSE, actor, at, f"Response proposed: {content.outcome.value}",
                           update={"proposal": proposal}, body=proposal.render(), visible=False)


def approval_reasons(case: Case, content: ResponseContent, policy: HandlingPolicy) -> list[str]:
    """Why a response needs a second pair of eyes (none: it does not). Amounts compare in their own currency (no
    exchange rates): the threshold is a number, and several payments in one currency count together."""
    reasons = [f"it offers {total:,.2f} {currency}, above the approval threshold of {policy.approval_threshold:,}"
               for currency, total in sorted(content.money().items()) if total > policy.approval_threshold]
    if case.assessment and case.assessment.severity in {Severity.HIGH, Severity.CRITICAL}:
        reasons.append(f"the complaint was assessed as {case.assessment.severity.value} severity")
    return reasons


def approve_response(case: Case, actor: Actor, at: datetime) -> Change:
    """7.7: a supervisor or manager who did not propose it approves the response."""
    authorise(Command.APPROVE_RESPONSE, case, actor, at)
    assert case.proposal is not None  # the case's invariants: a proposed response has a proposal
    approved = case.proposal.model_copy(update={"approved_by": actor.id, "approved_at": at})
    return case.transition(Action.APPROVE_RESPONSE, actor, at, update={"proposal": approved}, visible=False)


def return_proposal(case: Case, reason: str, actor: Actor, at: datetime) -> Change:
    """7.7: back to the investigation with a reason; the proposal stays in the timeline, no longer current."""
    authorise(Command.RETURN_PROPOSAL, case, actor, at)
    return case.transition(Action.RETURN_PROPOSAL, actor, at, reason, update={"proposal": None}, visible=False)


def communicate_decision(case: Case, actor: Actor, at: datetime, policy: HandlingPolicy) -> Change:
    """7.8: send the proposed response as the decision, with the recourse; refused while approval is needed. The
    complainant's answer is due within the reply window."""
    authorise(Command.COMMUNICATE_DECISION, case, actor, at)
    assert case.proposal is not None
    return _decide(case, Action.COMMUNICATE_DECISION, case.proposal.content(), actor, at, policy, final=False)


def conclude_review(case: Case, content: ResponseContent, actor: Actor, at: datetime,
                    policy: HandlingPolicy) -> Change:
    """7.9: the internal review's outcome, by a supervisor or manager who took no part, is the final decision."""
    authorise(Command.CONCLUDE_REVIEW, case, actor, at)
    return _decide(case, Action.CONCLUDE_REVIEW, content.content(), actor, at, policy, final=True)


def _decide(case: Case, action: Action, content: ResponseContent, actor: Actor, at: datetime,
            policy: HandlingPolicy, *, final: bool) -> Change:
    due = at + policy.reply_window
    internal = None if final else (
        f"If you do not accept this decision, tell us why by {due:%d %B %Y} and someone who took no part in it "
        f"will review your complaint.")
    decision = Decision(**content.model_dump(), recourse=Recourse(internal_review=internal, external=policy.external),
                        final=final, decided_by=actor.id, decided_at=at)
    event = {
        "outcome": decision.outcome.value, "final": final, "remedies": [r.kind.value for r in decision.remedies],
        "money": {c: str(t) for c, t in decision.money().items()}, "reply_due_at": due.isoformat(),
        "external_body": policy.external.body, "external_time_limit": policy.external.time_limit,
    }
    return case.transition(action, actor, at, update={"decision": decision, "reply_due_at": due, "proposal": None},
                           body=decision.render(), events=(("DecisionCommunicated", event),))


def accept_decision(case: Case, actor: Actor, at: datetime, policy: HandlingPolicy) -> Change:
    """7.9: the complainant accepts; the case closes with the reason the decision gives."""
    authorise(Command.ACCEPT_DECISION, case, actor, at)
    assert case.decision is not None
    reason = closure_reason_for(case.decision)
    return case.transition(Action.CLOSE, actor, at, reason.value, update=_closing(reason, actor, at, policy),
                           body="The complainant accepted the decision.")


def reject_decision(case: Case, reason: str, actor: Actor, at: datetime, policy: HandlingPolicy) -> Change:
    """7.9: the complainant rejects, with a reason. A first decision goes to internal review; a final one closes,
    with the rejection recorded and the external recourse repeated."""
    authorise(Command.REJECT_DECISION, case, actor, at)
    assert case.decision is not None
    if not (reason and reason.strip()):
        raise InvalidReason(Action.REQUEST_REVIEW, "Tell us why you do not accept the decision: it is what the "
                                                   "review (or the ombudsman) will look at.")
    reason = _short(reason, Action.REQUEST_REVIEW)
    if not case.decision.final:
        return case.transition(Action.REQUEST_REVIEW, actor, at, "The complainant did not accept the decision",
                               update={"reply_due_at": None}, body=reason)
    external = case.decision.recourse.external
    closing = closure_reason_for(case.decision)
    return case.transition(
        Action.CLOSE, actor, at, closing.value, update=_closing(closing, actor, at, policy),
        body=f"The complainant did not accept the final decision: {reason}\n\nThis was our final decision. You can "
             f"refer your complaint to {external.body} within {external.time_limit}. {external.details}")


def close(case: Case, reason: ClosureReason, actor: Actor, at: datetime, policy: HandlingPolicy,
          note: str | None = None) -> Change:
    """Staff close with a reason from the list and an optional note; the case can be reopened within the window.
    A duplicate is closed by linking it (``duplicate_of``), so that both timelines say so."""
    authorise(Command.CLOSE, case, actor, at)
    if reason is ClosureReason.DUPLICATE:
        raise InvalidReason(Action.CLOSE, "To close a duplicate, link it to the complaint it duplicates (relation "
                                          "duplicate_of): it is then merged, and both timelines say so.")
    note = _short(note, Action.CLOSE) if note else None
    return case.transition(Action.CLOSE, actor, at, reason.value,
                           update=_closing(reason, actor, at, policy, note=note), body=note)


def close_unanswered(case: Case, at: datetime, policy: HandlingPolicy) -> Change | None:
    """The sweep: a decision not answered by its due date closes the case with ``no_reply``. None when not due."""
    if case.status is not Status.DECISION_COMMUNICATED or case.reply_due_at is None or at < case.reply_due_at:
        return None
    actor = Actor.system("reply-window")
    return case.transition(Action.CLOSE, actor, at, ClosureReason.NO_REPLY.value,
                           update=_closing(ClosureReason.NO_REPLY, actor, at, policy),
                           body=f"No answer to our decision reached us by {case.reply_due_at:%d %B %Y}.")


def reopen(case: Case, reason: str, actor: Actor, at: datetime, owner: str | None = None) -> Change:
    """Within the reopen window, back to investigating with an owner: the one named, else the case's, else the
    person reopening it (who may assign anyone). A closed case cannot be assigned, so without that last default a
    reopen offered in allowed_actions would be refused for want of an owner. After the window, the refusal says why."""
    authorise(Command.REOPEN, case, actor, at)
    owner = owner or case.owner or actor.id
    update: dict = {"closure": None, "closure_reason": None}
    if owner != case.owner:
        if refused := assignment_refusal(actor, owner):
            raise refused
        update |= {"owner": owner, "participants": _with(case.participants, owner)}
    return case.transition(Action.REOPEN, actor, at, reason, update=update)


def _closing(reason: ClosureReason, actor: Actor, at: datetime, policy: HandlingPolicy, *,
             note: str | None = None, merged_into: str | None = None) -> dict:
    closure = Closure(reason=reason, note=note, closed_by=actor.id, closed_at=at,
                      reopen_until=at + policy.reopen_window, merged_into=merged_into)
    return {"closure": closure, "closure_reason": reason, "reply_due_at": None, "information_request": None,
            "proposal": None}


def _short(text: str, action: Action) -> str:
    text = text.strip()
    if not text:
        raise InvalidReason(action)  # its own message: "A reason is required to <action>."
    if len(text) > SHORT_TEXT_MAX_CHARS:
        raise InvalidReason(action, f"A reason is at most {SHORT_TEXT_MAX_CHARS} characters; this one has {len(text)}.")
    return text


def _with(people: tuple[str, ...], person: str) -> tuple[str, ...]:
    return people if person in people else (*people, person)
