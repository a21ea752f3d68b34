"""The services at their edges: what the complainant is told (how to complain, what happens next), the steps the
state machine asks for, the sweeps' reports, and the inputs people type (a reference in lower case). Written where
mutation testing (make mutate) showed a behaviour no other unit test would notice changing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from amends.domain.clock import FixedClock
from amends.domain.errors import ConcurrentUpdate, DomainError
from amends.domain.events import DomainEvent
from amends.domain.handling import ClosureReason
from amends.domain.lifecycle import Status
from amends.domain.model import Actor, ContactChannel, Person, Representative
from amends.domain.outgoing_mail import OutgoingMail
from amends.domain.permissions import Command
from amends.services import complainant, decision, handling, lifecycle, notifications, outbox, process, staff, timers
from amends.services.common import hash_token, with_optimistic_retry
from amends.services.ports import CasePage, CaseQuery
from amends.settings import Settings

from .cases import HANDLER, MANAGER, POLICY, SUPERVISOR, T0, content, findings, opening, take, walk
from .memory import MemoryCaseRepository

REF = "CMP-2026-7K3F9Q"
TOKEN = "complainant-token"
SETTINGS = Settings(table_name="t", event_bus_name="b", final_response_days=42, approval_threshold=Decimal(500),
                    decision_reply_days=28, reopen_window_days=56, external_body="the Financial Ombudsman Service",
                    external_time_limit="six months", sender_address="complaints@example.com",
                    external_recourse="Refer it to the Financial Ombudsman Service, free of charge.")


def stored(case_or_change, repo: MemoryCaseRepository | None = None) -> MemoryCaseRepository:
    """A repository holding the opening of a case and the changes that took it where it is."""
    repo = repo or MemoryCaseRepository()
    changes = case_or_change if isinstance(case_or_change, list) else [case_or_change]
    for change in changes:
        repo.record(change)
    return repo


def at(status: Status, **submission: object) -> tuple[MemoryCaseRepository, FixedClock]:
    """A stored case walked along the main path to ``status``, with the complainant's token set."""
    first = opening(REF, **submission)
    first = first.model_copy(update={"case": first.case.model_copy(update={"access_token_hash": hash_token(TOKEN)})})
    _, changes = walk(status, first.case)
    return stored([first, *changes]), FixedClock(T0)


# -- how to complain (7.1) ------------------------------------------------------------------------------------------

def test_how_to_complain_is_published_in_full_from_the_settings_and_the_intake_model() -> None:
    """The published process (ISO 10002 7.1) is content a complainant reads: every word of it is checked here, so a
    change to it is a reviewed change, and what it asks for is exactly what the intake model requires."""
    assert process.process_information(SETTINGS) == {
        "how_to_complain": ["Online or in our app (POST /complaints)"],
        "what_to_provide": {
            "complainant": "complainant",
            "representative": "representative (optional)",
            "product_or_service": "product or service",
            "account_reference": "account reference (optional)",
            "problem_date": "When the problem happened, if known. (optional)",
            "description": "description",
            "remedy_sought": "What the complainant wants done. Required; send 'unknown' if they do not know yet.",
            "attachments": "attachments (optional)",
            "preferred_contact_channel": "preferred contact channel (optional)",
            "preferred_language": "preferred language (optional)",
            "accessibility_needs": "accessibility needs (optional)",
            "safety_concern": "Someone's health or safety may be at risk: handled urgently. (optional)",
            "consent": "consent (optional)",
        },
        # From the policy for the jurisdiction (none set: the organisation's default policy), not a flat day count.
        "time_frames": {
            "acknowledgement": "An acknowledgement: within 2 business days of receipt.",
            "final_response": "A final response: within 56 days of receipt.",
            "calendar": "Monday to Friday, 09:00 to 17:30 UK time, closed on the bank holidays of England and Wales.",
            "paused": "The time we take is paused while we wait for information we asked you for.",
        },
        "how_to_get_status": "GET /complaints/{reference} with the access token you were given, in the "
                             "X-Access-Token header.",
        "recourse": [
            "Ask for an internal review by someone not involved in the first decision.",
            "Refer it to the Financial Ombudsman Service, free of charge.",
        ],
        "charges": "Complaining is free of charge at every stage.",
    }


# -- what happens next, in the complainant's words -----------------------------------------------------------------

def test_what_the_complainant_is_told_at_each_step_and_by_when() -> None:
    due = T0 + timedelta(days=42)
    told = {}
    for status, occurrence in [(Status.RECEIVED, 1), (Status.ACKNOWLEDGED, 1), (Status.INVESTIGATING, 1),
                               (Status.AWAITING_COMPLAINANT, 1), (Status.DECISION_COMMUNICATED, 1),
                               (Status.INTERNAL_REVIEW, 1), (Status.DECISION_COMMUNICATED, 2), (Status.CLOSED, 1)]:
        case, _ = walk(status, occurrence=occurrence)
        step = complainant.next_step(case, SETTINGS)
        told[(status, occurrence)] = (step.what, step.by, case)
    assert told[(Status.RECEIVED, 1)][:2] == (
        "We will acknowledge your complaint, normally within one working day, and send you our decision.", due)
    for status in (Status.ACKNOWLEDGED, Status.INVESTIGATING):
        assert told[(status, 1)][:2] == ("We are looking into your complaint and will send you our decision.", due)
    assert told[(Status.AWAITING_COMPLAINANT, 1)][:2] == (
        "We have asked you: Which account? Reply with a message; the time we take is paused until you do.", None)
    first = told[(Status.DECISION_COMMUNICATED, 1)]
    assert first[:2] == ("Tell us whether you accept our decision. If you do not, tell us why and someone who took "
                         "no part in it will review your complaint.", first[2].reply_due_at)
    assert first[1] == T0 + timedelta(days=28)
    assert told[(Status.INTERNAL_REVIEW, 1)][:2] == (
        "Someone who took no part in our decision is reviewing your complaint and will send you our final decision.",
        due)  # the review's outcome is the final response: due when the policy's final response is
    final = told[(Status.DECISION_COMMUNICATED, 2)]
    assert final[:2] == ("This is our final decision. Tell us whether you accept it; if you do not, you can refer "
                         "your complaint to the Financial Ombudsman Service within six months.", final[2].reply_due_at)
    closed = told[(Status.CLOSED, 1)]
    assert closed[:2] == ("Your complaint is closed. If something is still not put right, ask us to reopen it.",
                          closed[2].closure.reopen_until)
    assert closed[1] == T0 + timedelta(days=56)


def test_a_withdrawn_complaint_can_be_reopened_and_a_question_without_a_record_still_reads() -> None:
    case, _ = walk(Status.INVESTIGATING)
    withdrawn = take(case, handling_action("close"), T0, "withdrawn").case
    step = complainant.next_step(withdrawn, SETTINGS)
    assert (step.what, step.by) == ("Your complaint is closed as you withdrew it. If you want us to look at it "
                                    "again, ask us to reopen it.", withdrawn.closure.reopen_until)
    # A closed case recorded before closures were kept, and a wait recorded before questions were.
    bare = withdrawn.model_copy(update={"closure": None})
    assert complainant.next_step(bare, SETTINGS) == complainant.NextStep(what="Your complaint is closed.")
    waiting, _ = walk(Status.AWAITING_COMPLAINANT)
    step = complainant.next_step(waiting.model_copy(update={"information_request": None}), SETTINGS)
    assert step.what == ("We have asked you: see our last message Reply with a message; the time we take is paused "
                         "until you do.")


def handling_action(name: str):
    from amends.domain.lifecycle import Action

    return Action(name)


def test_a_complainant_sees_their_case_by_a_reference_typed_in_lower_case_and_nothing_with_a_wrong_token() -> None:
    repo, clock = at(Status.INVESTIGATING)
    staff.add_note(REF, "INTERNAL: the fee was wrong", SUPERVISOR, repo=repo, clock=clock)
    staff.assign_owner(REF, "handler-2", SUPERVISOR, reason="cover", repo=repo, clock=clock)
    record = complainant.view_case(REF.lower(), TOKEN, repo=repo)
    assert record.case.reference == REF
    # What the service hands the view: every entry the complainant may see, and not the note or the assignment.
    assert {"add_note", "assign"} <= {e.action for e in repo.timelines[REF]}
    assert [e.seq for e in record.timeline] == [e.seq for e in repo.timelines[REF] if e.complainant_visible]
    assert {e.action for e in record.timeline}.isdisjoint({"add_note", "assign"})
    from amends.domain.errors import CaseNotFound

    for ref, token in [(REF, "wrong"), (REF, None), ("cmp-2026-zzzzzz", TOKEN)]:
        with pytest.raises(CaseNotFound) as refused:
            complainant.view_case(ref, token, repo=repo)
        assert refused.value.reference == ref.upper()  # the same answer, naming what was asked for


def test_a_complainant_answers_a_decision_by_a_reference_typed_in_lower_case() -> None:
    repo, clock = at(Status.DECISION_COMMUNICATED)
    case = complainant.answer_decision(REF.lower(), TOKEN, accept=True, reason=None, repo=repo, clock=clock,
                                       settings=SETTINGS)
    assert case.status is Status.CLOSED and repo.get(REF).status is Status.CLOSED


def test_a_message_reaches_the_case_from_a_reference_typed_in_lower_case() -> None:
    repo, clock = at(Status.AWAITING_COMPLAINANT)
    case, entry = complainant.add_message(f" {REF.lower()} ", TOKEN, "The current account.", repo=repo, clock=clock)
    assert case.status is Status.INVESTIGATING and entry.body == "The current account."


# -- the lifecycle's steps ------------------------------------------------------------------------------------------

def test_the_acknowledgement_step_is_taken_by_the_execution_and_says_what_was_sent() -> None:
    repo, clock = stored(opening(REF)), FixedClock(T0)
    case = lifecycle.take_step(REF.lower(), "acknowledge", execution="exec-1", repo=repo, clock=clock)
    entry = repo.timelines[REF][-1]
    assert case.status is Status.ACKNOWLEDGED
    assert entry.actor == Actor.system("exec-1")
    assert entry.reason == "Acknowledgement sent with the reference and the expected time frame"
    with pytest.raises(ValueError) as unknown:
        lifecycle.take_step(REF, "assess", execution=None, repo=repo, clock=clock)
    assert str(unknown.value) == "unknown lifecycle step 'assess'; steps that change a case: acknowledge"


def test_without_an_execution_the_step_is_taken_by_the_lifecycle_and_retried_on_a_concurrent_write() -> None:
    repo, clock = stored(opening(REF)), FixedClock(T0)
    repo.before_write.append(lambda r: r.record(r.get(REF).add_note("meanwhile", HANDLER, T0)))
    case = lifecycle.take_step(REF, "acknowledge", execution=None, repo=repo, clock=clock)
    assert case.status is Status.ACKNOWLEDGED and case.version == 3
    assert repo.timelines[REF][-1].actor == Actor.system("case-lifecycle")


def test_a_proposal_above_the_threshold_is_routed_for_approval_with_its_reasons() -> None:
    case, _ = walk(Status.RESPONSE_PROPOSED)  # 900 offered, 500 the threshold
    repo = MemoryCaseRepository()
    repo.cases[REF] = case
    routed = lifecycle.work_out(REF.lower(), "route_approval", repo=repo)
    assert routed == {"needs_approval": True, "reasons": case.proposal.approval_reasons}
    assert routed["reasons"]
    assert lifecycle.needs_approval(case) is True
    small = take(walk(Status.INVESTIGATING)[0], handling_action("propose_response"), T0).case
    assert lifecycle.route_approval(small) == {"needs_approval": False, "reasons": []}
    none_yet, _ = walk(Status.INVESTIGATING)
    assert lifecycle.route_approval(none_yet) == {"needs_approval": False, "reasons": []}
    assert lifecycle.needs_approval(none_yet) is False


def test_reviewers_are_seniors_who_took_no_part_in_the_case() -> None:
    case, _ = walk(Status.INTERNAL_REVIEW)
    chosen = lifecycle.choose_reviewers(case)
    assert chosen == {"roles": ["supervisor", "manager"], "not": sorted({HANDLER.id, SUPERVISOR.id})}
    owned_by_outsider = case.model_copy(update={"owner": "someone-else", "participants": ()})
    assert lifecycle.choose_reviewers(owned_by_outsider)["not"] == ["someone-else"]
    assert lifecycle.choose_reviewers(case.model_copy(update={"owner": None, "participants": ()}))["not"] == []


@pytest.mark.parametrize(("submission", "told"), [
    ({}, {"channel": "email", "by": "email"}),
    ({"preferred_contact_channel": ContactChannel.PHONE,
      "complainant": Person(name="Ada", email="ada@example.com", phone="+44 20 7946 0000")},
     {"channel": "phone", "by": "staff"}),
    ({"consent": {"contact": False}}, {"channel": "email", "by": "staff"}),
    ({"representative": Representative(name="Bo", email="bo@example.com", relationship="solicitor")},
     {"channel": "email", "by": "email"}),
    ({"complainant": Person(name="Ada"),
      "representative": Representative(name="Bo", email="bo@example.com", relationship="solicitor")},
     {"channel": "email", "by": "email"}),
])
def test_the_decision_goes_by_email_only_to_someone_reachable_by_email_who_agreed(submission, told) -> None:
    repo = stored(opening(REF, **submission))
    assert lifecycle.work_out(REF, "tell_complainant", repo=repo) == told


def test_the_decision_goes_by_staff_when_the_contact_has_no_email() -> None:
    case = opening(REF).case
    no_email = case.submission.model_copy(update={"complainant": Person(name="Ada")})
    assert lifecycle.tell_complainant(case.model_copy(update={"submission": no_email})) == {
        "channel": "email", "by": "staff"}


def test_an_unknown_working_step_names_every_step() -> None:
    with pytest.raises(ValueError) as unknown:
        lifecycle.work_out(REF, "decide", repo=MemoryCaseRepository())
    assert str(unknown.value) == ("unknown lifecycle step 'decide'; known steps: acknowledge, await, choose_reviewers, "
                                  "route_approval, tell_complainant")


# -- staff ----------------------------------------------------------------------------------------------------------

def test_returning_a_proposal_takes_the_case_back_to_investigation_with_the_reason() -> None:
    repo, clock = at(Status.RESPONSE_PROPOSED)
    case = decision.return_proposal(REF.lower(), "Offer the refund too", SUPERVISOR, repo=repo, clock=clock)
    assert case.status is Status.INVESTIGATING and case.proposal is None
    assert repo.get(REF) == case and repo.timelines[REF][-1].reason == "Offer the refund too"


def test_staff_read_a_case_by_a_reference_typed_in_lower_case_and_list_what_the_store_lists() -> None:
    repo, clock = at(Status.INVESTIGATING)
    record = staff.get_case(f" {REF.lower()} ", repo=repo)
    assert record.case == repo.get(REF) and record.timeline == repo.timelines[REF]
    query = CaseQuery(status=Status.INVESTIGATING, limit=5)
    seen = []

    class Store:
        def list_cases(self, q):
            seen.append(q)
            return CasePage([], "next")

    assert staff.list_cases(query, repo=Store()) == CasePage([], "next") and seen == [query]


def test_staff_assign_and_note_by_a_reference_typed_in_lower_case() -> None:
    repo, clock = at(Status.INVESTIGATING)
    case = staff.assign_owner(REF.lower(), "handler-2", SUPERVISOR, reason="holiday cover", repo=repo, clock=clock)
    assert case.owner == "handler-2" and repo.timelines[REF][-1].reason == "holiday cover"
    entry = staff.add_note(REF.lower(), "Called the branch", HANDLER, repo=repo, clock=clock)
    assert entry.body == "Called the branch" and repo.timelines[REF][-1] == entry


def test_an_auditor_is_told_why_they_cannot_add_a_note() -> None:
    from amends.domain.errors import Forbidden

    repo, clock = at(Status.INVESTIGATING)
    with pytest.raises(Forbidden) as refused:
        staff.add_note(REF, "x", Actor(kind="staff", id="a", roles=("auditor",)), repo=repo, clock=clock)
    assert str(refused.value) == ("Auditors have read-only access; adding a note needs the handler, supervisor, "
                                  "manager or admin role.")


def test_what_staff_may_do_depends_on_the_time_the_clock_gives() -> None:
    case, _ = walk(Status.CLOSED)
    inside = handling.allowed_actions(case, MANAGER, clock=FixedClock(T0 + timedelta(days=1)))
    outside = handling.allowed_actions(case, MANAGER, clock=FixedClock(T0 + timedelta(days=57)))
    assert Command.REOPEN in inside and Command.REOPEN not in outside


def test_closing_through_the_service_keeps_the_note() -> None:
    repo, clock = at(Status.INVESTIGATING)
    case = handling.close(REF.lower(), ClosureReason.WITHDRAWN, HANDLER, note="By phone", repo=repo, clock=clock,
                          settings=SETTINGS)
    assert case.status is Status.CLOSED and case.closure.note == "By phone"
    assert repo.timelines[REF][-1].body == "By phone"


# -- intake and the acknowledgement ---------------------------------------------------------------------------------

def test_a_filed_complaint_is_due_its_response_by_its_policy_and_opened_by_the_complainant() -> None:
    from amends.domain.model import Channel
    from amends.domain.reference import is_well_formed
    from amends.services import intake

    from .conftest import make_submission

    repo, clock = MemoryCaseRepository(), FixedClock(T0)
    filed = intake.file_complaint(make_submission(), Channel.WEB, repo=repo, clock=clock, settings=SETTINGS)
    # The default policy's 56 days, to the end of the day in London (BST by then), not FinalResponseDays' flat 42.
    assert filed.case.sla.pinned.policy.id == "default"
    assert filed.response_due_by == datetime(2026, 4, 27, 23, 0, tzinfo=UTC)
    assert is_well_formed(filed.case.reference) and filed.case.reference.startswith("CMP-2026-")
    assert filed.case.access_token_hash == hash_token(filed.access_token) and len(filed.access_token) >= 43
    [entry] = repo.timelines[filed.case.reference]
    assert entry.actor == Actor(kind="complainant", id="complainant")
    assert filed.case.received_at_local.utcoffset() == timedelta(0)  # Europe/London in November


def test_intake_gives_up_after_five_taken_references() -> None:
    from amends.domain.model import Channel
    from amends.services import intake
    from amends.services.ports import ReferenceTaken

    from .conftest import make_submission

    class Full:
        draws = 0

        def record(self, change):
            Full.draws += 1
            raise ReferenceTaken(change.case.reference)

    with pytest.raises(RuntimeError) as full:
        intake.file_complaint(make_submission(), Channel.WEB, repo=Full(), clock=FixedClock(T0), settings=SETTINGS)
    assert Full.draws == 5
    assert str(full.value) == "could not draw a free reference in 5 tries; the reference space is full"


class Mailer:
    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    def send(self, mail: OutgoingMail) -> str:
        self.sent.append(mail)
        return "msg-1"


def test_the_acknowledgement_says_who_it_is_for_when_it_came_and_when_to_expect_an_answer() -> None:
    received = datetime(2026, 7, 1, 8, 5, tzinfo=UTC)  # 09:05 in London (summer time)
    change = opening(REF, at=received)
    case = change.case.model_copy(update={"received_at_local": received.astimezone(SETTINGS.zone)})
    subject, body = notifications.acknowledgement_text(case, SETTINGS)
    assert subject == f"We have received your complaint {REF}"
    assert body == (
        "Dear Ada Lovelace,\n\n"
        "Thank you for telling us about your complaint about Current account. We received it on 01 July 2026 at "
        "09:05 (Europe/London).\n\n"
        f"Your reference is {REF}. Please quote it whenever you contact us; you can also use it, with the access "
        "token you were given, to see the progress of your complaint at any time.\n\n"
        "We will send you our final response by 12 August 2026. If we cannot, we will write before then to explain "
        "why and to tell you about your right to refer your complaint to the ombudsman.\n\n"
        "Making a complaint is free of charge.\n")


def test_a_representative_is_written_to_and_a_complainant_without_email_is_left_to_staff() -> None:
    rep = Representative(name="Bo Smith", email="bo@example.com", relationship="solicitor")
    repo, mailer = stored(opening(REF, representative=rep)), Mailer()
    sent = notifications.send_acknowledgement(REF.lower(), repo=repo, mailer=mailer, settings=SETTINGS)
    assert sent == notifications.Outcome(True, "sent as msg-1")
    [message] = mailer.sent
    assert message.to == "bo@example.com" and message.reply_to == "complaints@example.com"
    assert message.text.startswith("Dear Bo Smith,\n\n")
    assert message.automatic and message.kind == "acknowledgement" and message.case_reference == REF

    by_phone = {"preferred_contact_channel": ContactChannel.PHONE,
                "complainant": Person(name="Ada", email="ada@example.com", phone="+44 20 7946 0000")}
    repo = stored(opening(REF, **by_phone))
    assert notifications.send_acknowledgement(REF, repo=repo, mailer=mailer, settings=SETTINGS) == \
        notifications.Outcome(False, "preferred channel is phone: sent by staff, not by email")
    repo = stored(opening(REF, consent={"contact": False}))
    assert notifications.send_acknowledgement(REF, repo=repo, mailer=mailer, settings=SETTINGS) == \
        notifications.Outcome(False, "the complainant did not agree to be contacted")
    case = opening(REF).case
    no_email = case.model_copy(update={"submission": case.submission.model_copy(
        update={"complainant": Person(name="Ada")})})
    repo = MemoryCaseRepository()
    repo.cases[REF] = no_email
    assert notifications.send_acknowledgement(REF, repo=repo, mailer=mailer, settings=SETTINGS).sent is False
    assert len(mailer.sent) == 1


def test_an_acknowledgement_is_notified_only_on_its_own_event_and_other_events_say_so() -> None:
    repo, mailer = stored(opening(REF)), Mailer()
    _, (acknowledged, assessed) = walk(Status.ASSESSED)
    [ack], [other] = acknowledged.events, assessed.events
    assert notifications.notify(other, repo=repo, mailer=mailer, settings=SETTINGS) == \
        notifications.Outcome(False, "no notification for CaseStatusChanged")
    not_a_change = ack.model_copy(update={"type": "InternalNoteAdded"})  # the same data on another kind of event
    assert notifications.notify(not_a_change, repo=repo, mailer=mailer, settings=SETTINGS) == \
        notifications.Outcome(False, "no notification for InternalNoteAdded")
    assert notifications.notify(ack, repo=repo, mailer=mailer, settings=SETTINGS).sent is True
    assert len(mailer.sent) == 1


# -- the outbox -----------------------------------------------------------------------------------------------------

class Outbox:
    def __init__(self, pending: list[DomainEvent]) -> None:
        self.pending, self.asked, self.marked = pending, [], []

    def pending_events(self, older_than_iso: str, limit: int) -> list[DomainEvent]:
        self.asked.append((older_than_iso, limit))
        return self.pending[:limit]

    def mark_published(self, events, at: datetime) -> None:
        self.marked.append(([e.event_id for e in events], at))


class Bus:
    def __init__(self, refuse: int = 0) -> None:
        self.refuse = refuse

    def publish(self, events):
        return list(events[:self.refuse])


def events(n: int) -> list[DomainEvent]:
    return [DomainEvent.new("CaseStatusChanged", REF, i + 1, HANDLER, T0, {"action": "assess", "before": {}, "after": {}})
            for i in range(n)]


def test_the_sweeper_asks_for_what_is_older_than_the_grace_period_a_batch_at_a_time() -> None:
    clock, pending = FixedClock(T0), events(3)
    box = Outbox(pending)
    assert outbox.sweep(grace_seconds=300, clock=clock, publisher=Bus(refuse=1), outbox=box, batch=2) == (1, 1)
    assert box.asked == [((T0 - timedelta(seconds=300)).isoformat(), 2)]
    assert box.marked == [([pending[1].event_id], T0)]
    box = Outbox(pending)
    assert outbox.sweep(grace_seconds=60, clock=clock, publisher=Bus(), outbox=box) == (3, 0)
    assert box.asked == [((T0 - timedelta(seconds=60)).isoformat(), 100)]


def test_nothing_is_marked_when_nothing_went_out() -> None:
    clock, pending = FixedClock(T0), events(2)
    box = Outbox(pending)
    assert outbox.publish(pending, publisher=Bus(refuse=2), outbox=box, clock=clock) == pending
    assert box.marked == []
    assert outbox.sweep(grace_seconds=0, clock=clock, publisher=Bus(), outbox=Outbox([])) == (0, 0)


# -- the timer sweep's report ---------------------------------------------------------------------------------------

class Timers:
    """Due timers, and what the sweep did with each: claimed until when, settled with which outcome."""

    def __init__(self, *due: timers.DueTimer, taken: frozenset[str] = frozenset()) -> None:
        self.items, self.taken = list(due), taken
        self.asked: list[tuple[datetime, int]] = []
        self.claims: list[tuple[str, datetime, datetime]] = []
        self.settled: list[tuple[str, datetime, str]] = []

    def due(self, now: datetime, limit: int) -> list[timers.DueTimer]:
        self.asked.append((now, limit))
        return self.items[:limit]

    def claim(self, timer: timers.DueTimer, now: datetime, until: datetime) -> bool:
        self.claims.append((timer.name, now, until))
        return timer.name not in self.taken

    def settle(self, timer: timers.DueTimer, at: datetime, outcome: str) -> None:
        self.settled.append((timer.name, at, outcome))


def due(name: str) -> timers.DueTimer:
    return timers.DueTimer(REF, name, T0)


def test_the_sweep_claims_each_due_timer_for_a_while_and_records_how_each_ended() -> None:
    def conflict(timer):
        raise ConcurrentUpdate(timer.reference)

    def moved_on(timer):
        raise DomainError("the complainant answered")

    def broken(timer):
        raise KeyError("reply")

    store = Timers(due("fires"), due("nothing"), due("moved"), due("conflict"), due("broken"), due("orphan"),
                   due("held"), taken=frozenset({"held"}))
    handlers = {"fires": lambda t: "closed", "nothing": lambda t: None, "moved": moved_on, "conflict": conflict,
                "broken": broken, "held": lambda t: "closed"}
    clock = FixedClock(T0 + timedelta(days=1))
    now = clock.now()
    result = timers.sweep(store=store, handlers=handlers, clock=clock)
    assert store.asked == [(now, 100)]
    assert store.claims == [(t.name, now, now + timedelta(minutes=5)) for t in store.items]
    assert [(t.name, o, d) for t, o, d in result.outcomes] == [
        ("fires", "fired", ""),
        ("nothing", "stale", "the case no longer waits for this timer"),
        ("moved", "stale", "the complainant answered"),
        ("conflict", "failed", f"Complaint {REF} was changed by someone else at the same time. Reload it and try "
                               f"again."),
        ("broken", "failed", "KeyError: 'reply'"),
        ("orphan", "failed", "no handler for timer orphan"),
        ("held", "taken", "moved, cleared or held by another run"),
    ]
    # Only a timer whose work is done (or has nothing left to do) leaves the due index; a failure keeps its claim.
    assert store.settled == [("fires", now, "fired"), ("nothing", now, "stale"), ("moved", now, "stale")]
    assert (result.count("fired"), result.count("stale"), result.count("failed"), result.count("taken")) == (1, 2, 3, 1)


def test_the_sweep_takes_a_limited_batch_and_claims_for_as_long_as_asked() -> None:
    store = Timers(due("a"), due("b"), due("c"))
    clock = FixedClock(T0)
    result = timers.sweep(store=store, handlers={"a": lambda t: 1, "b": lambda t: 1, "c": lambda t: 1}, clock=clock,
                          limit=2, claim_for=timedelta(seconds=30))
    assert store.asked == [(T0, 2)] and [t.name for t, _, _ in result.outcomes] == ["a", "b"]
    assert store.claims == [("a", T0, T0 + timedelta(seconds=30)), ("b", T0, T0 + timedelta(seconds=30))]
    assert timers.CLAIM_FOR == timedelta(minutes=5)


def test_the_reply_window_handler_closes_the_case_at_the_sweeps_time() -> None:
    repo, _ = at(Status.DECISION_COMMUNICATED)
    case = repo.get(REF)
    clock = FixedClock(case.reply_due_at + timedelta(hours=1))
    handler = timers.handlers(repo=repo, clock=clock, settings=SETTINGS)["reply_window"]
    closed = handler(timers.DueTimer(REF.lower(), "reply_window", case.reply_due_at))
    assert closed.status is Status.CLOSED and closed.updated_at == clock.now()


# -- retries --------------------------------------------------------------------------------------------------------

def test_a_command_is_tried_three_times_then_the_conflict_is_reported() -> None:
    tries = []

    def always_conflicting():
        tries.append(1)
        raise ConcurrentUpdate(REF)

    with pytest.raises(ConcurrentUpdate):
        with_optimistic_retry(always_conflicting)
    assert len(tries) == 3
    tries.clear()

    def second_time_lucky():
        tries.append(1)
        if len(tries) < 3:
            raise ConcurrentUpdate(REF)
        return "done"

    assert with_optimistic_retry(second_time_lucky) == "done" and len(tries) == 3


# -- every read-decide-write use case decides again on the latest case ------------------------------------------------

RACED = [
    ("assign an owner", Status.INVESTIGATING, "assign",
     lambda repo, clock: staff.assign_owner(REF, "handler-2", SUPERVISOR, reason="cover", repo=repo, clock=clock)),
    ("add a note", Status.INVESTIGATING, "add_note",
     lambda repo, clock: staff.add_note(REF, "Called the branch.", HANDLER, repo=repo, clock=clock)),
    ("a step through change_case", Status.RESPONSE_APPROVED, "communicate_decision",
     lambda repo, clock: decision.communicate_decision(REF, HANDLER, repo=repo, clock=clock, settings=SETTINGS)),
    ("the complainant's answer", Status.DECISION_COMMUNICATED, "close",
     lambda repo, clock: complainant.answer_decision(REF, TOKEN, accept=True, reason=None, repo=repo, clock=clock,
                                                     settings=SETTINGS)),
    ("the complainant's message", Status.AWAITING_COMPLAINANT, "add_message",
     lambda repo, clock: complainant.add_message(REF, TOKEN, "The current account.", repo=repo, clock=clock)),
]


@pytest.mark.parametrize(("status", "action", "use_case"), [r[1:] for r in RACED], ids=[r[0] for r in RACED])
def test_a_use_case_raced_by_two_writes_decides_again_on_the_latest_case(status, action, use_case) -> None:
    repo, clock = at(status)
    version = repo.get(REF).version
    repo.races = 2  # a colleague's note lands before each of its first two writes (tests/unit/memory.py)
    use_case(repo, clock)
    assert repo.get(REF).version == version + 3
    assert [e.action for e in repo.timelines[REF]][-3:] == ["add_note", "add_note", action]
