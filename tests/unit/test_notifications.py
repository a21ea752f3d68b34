"""Which event sends which mail to whom, in which language (fakes hold the cases, the staff and the sent mail)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from amends.domain import steps
from amends.domain.case_sla import CaseSla
from amends.domain.events import DomainEvent
from amends.domain.lifecycle import Action, Status
from amends.domain.model import Case, Channel, open_case
from amends.domain.outgoing_mail import OutgoingMail
from amends.domain.sla import Pinned
from amends.domain.sla_config import load_config
from amends.services import notifications
from amends.services.mail_templates import TEMPLATE_DIR, MailTemplates
from amends.settings import Settings
from jinja2 import UndefinedError

from .cases import COMPLAINANT, opening, HANDLER, RULES, SUPERVISOR, SYSTEM, findings, walk
from .conftest import make_submission
from .memory import MemoryCaseRepository, MemoryStaffDirectory

SETTINGS = Settings(table_name="t", event_bus_name="b", sender_address="complaints@example.com")
CONFIG = load_config()
RECEIVED = datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)  # a Monday
STAFF = MemoryStaffDirectory({
    "handler-1": ("handler-1@example.com", ("handler",)), "handler-2": ("handler-2@example.com", ("handler",)),
    "supervisor-1": ("sup-1@example.com", ("supervisor",)), "supervisor-2": ("sup-2@example.com", ("supervisor",)),
    "manager-1": ("manager-1@example.com", ("manager",)),
})


class Mailer:
    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    def send(self, mail: OutgoingMail) -> str:
        self.sent.append(mail)
        return f"msg-{len(self.sent)}"


def with_sla(repo: MemoryCaseRepository | None = None, **submission: object) -> Case:
    """A case opened under FCA DISP (kept in ``repo`` when given)."""
    p = CONFIG.policies["fca-disp"]
    sla = CaseSla.open(Pinned.of(p, CONFIG.calendars[p.calendar], RECEIVED), CONFIG.escalation.rules)
    change = open_case(reference="CMP-2026-7K3F9Q", access_token_hash="x" * 64, channel=Channel.WEB,
                       submission=make_submission(**submission), actor=COMPLAINANT, received_at=RECEIVED,
                       received_at_local=RECEIVED, sla=sla)
    if repo is not None:
        repo.record(change)
    return change.case


def run(repo: MemoryCaseRepository, events: list[DomainEvent]) -> tuple[Mailer, list[notifications.Outcome]]:
    mailer = Mailer()
    return mailer, [notifications.notify(e, repo=repo, mailer=mailer, settings=SETTINGS, staff=STAFF) for e in events]


def investigating(**submission: object) -> tuple[MemoryCaseRepository, Case]:
    repo = MemoryCaseRepository()
    case = with_sla(repo, **submission)
    for make in (lambda c: c.apply(Action.ACKNOWLEDGE, SYSTEM, RECEIVED + timedelta(hours=1)),
                 lambda c: steps.assess(c, findings(), HANDLER, RECEIVED + timedelta(hours=2), RULES),
                 lambda c: steps.start_investigation(c, HANDLER, RECEIVED + timedelta(hours=3), owner=HANDLER.id)):
        change = make(case)
        repo.record(change)
        case = change.case
    repo.events.clear()
    return repo, case


def escalate(repo: MemoryCaseRepository, case: Case, at: datetime) -> tuple[Case, list[DomainEvent]]:
    change = case.escalate(at)
    assert change is not None
    repo.record(change)
    return change.case, list(change.events)


def test_the_acknowledgement_is_written_in_the_complainants_language_in_text_and_html() -> None:
    for language, subject, phrase in (("fr", "Nous avons bien reçu votre réclamation", "au plus tard le "),
                                      ("fr-CA", "Nous avons bien reçu votre réclamation", "au plus tard le "),
                                      ("de", "We have received your complaint", "final response by ")):
        repo = MemoryCaseRepository()
        case = with_sla(repo, preferred_language=language)
        repo.record(change := case.apply(Action.ACKNOWLEDGE, SYSTEM, RECEIVED + timedelta(hours=1)))
        mailer, [outcome] = run(repo, list(change.events))
        [mail] = mailer.sent
        assert outcome.sent and mail.subject == f"{subject} CMP-2026-7K3F9Q" and mail.to == "ada@example.com"
        due = notifications._due_date(change.case, SETTINGS)
        assert phrase in mail.text and str(due.year) in mail.text and "CMP-2026-7K3F9Q" in mail.html
        assert mail.html.startswith("<!DOCTYPE html>") and "<strong>CMP-2026-7K3F9Q</strong>" in mail.html
    assert "juin 2026" in notifications.acknowledgement_text(with_sla(preferred_language="fr"), SETTINGS)[1]


def test_assignment_tells_the_new_owner_unless_they_took_it_or_have_no_address() -> None:
    repo, case = investigating()
    repo.record(steps_assign := case.assign("handler-2", SUPERVISOR, RECEIVED + timedelta(hours=4), reason="cover"))
    mailer, [outcome] = run(repo, list(steps_assign.events))
    [mail] = mailer.sent
    assert outcome.sent and mail.to == "handler-2@example.com" and mail.kind == "staff_assigned"
    assert mail.subject == "Case CMP-2026-7K3F9Q is assigned to you" and "assigned by supervisor-1" in mail.text
    assert "Reason: cover" in mail.text
    took = steps_assign.case.assign("handler-1", HANDLER, RECEIVED + timedelta(hours=5))
    unknown = took.case.assign("nobody-9", SUPERVISOR, RECEIVED + timedelta(hours=6))
    repo.record(took), repo.record(unknown)
    mailer, outcomes = run(repo, [*took.events, *unknown.events])
    assert mailer.sent == [] and [o.detail for o in outcomes] == [
        "handler-1 took the case themselves", "no address for nobody-9 in the staff directory"]


def test_escalations_go_to_the_owner_then_the_supervisors_and_a_breach_to_the_managers() -> None:
    repo, case = investigating()
    case, events = escalate(repo, case, RECEIVED + timedelta(days=29))  # half time: the owner
    mailer, outcomes = run(repo, events)
    assert [(m.to, m.kind) for m in mailer.sent] == [("handler-1@example.com", "staff_at_risk")]
    assert "final response" in mailer.sent[0].subject and "(level 1)" in mailer.sent[0].subject
    assert "Escalation final-response level 1" in mailer.sent[0].text
    assert [e.type for e in events] == ["CaseEscalated", "SlaEscalated"] and [o.sent for o in outcomes] == [False, True]

    case, events = escalate(repo, case, RECEIVED + timedelta(days=46))  # 80 %: the owner and every supervisor
    mailer, _ = run(repo, events)
    assert sorted(m.to for m in mailer.sent) == ["handler-1@example.com", "sup-1@example.com", "sup-2@example.com"]
    assert all(m.to_staff for m in mailer.sent)  # to staff: not held back by the hourly limit on automatic mail

    case, events = escalate(repo, case, RECEIVED + timedelta(days=60))  # breached: the managers; back in the queue
    mailer, _ = run(repo, [e for e in events if e.type != "SlaBreached"])
    [mail] = mailer.sent
    assert (mail.to, mail.kind) == ("manager-1@example.com", "staff_breached") and "breached" in mail.subject
    assert case.owner is None and "Owner: handler-1." in mail.text  # who had it when it fired
    mailer, outcomes = run(repo, [e for e in events if e.type == "SlaBreached"])
    assert mailer.sent == [] and outcomes[0].detail == "no notification for SlaBreached"


def test_an_escalation_of_a_case_without_owner_tells_the_supervisors_and_a_person_by_address() -> None:
    repo = MemoryCaseRepository()
    case = with_sla(repo)
    repo.record(change := case.apply(Action.ACKNOWLEDGE, SYSTEM, RECEIVED + timedelta(hours=1)))
    case = change.case
    _, events = escalate(repo, case, RECEIVED + timedelta(days=29))
    [escalated] = [e for e in events if e.type == "SlaEscalated"]
    person = escalated.model_copy(update={"data": {**escalated.data, "actions": [
        {"do": "notify_owner"}, {"do": "notify_person", "address": "ombuds-desk@example.com"}]}})
    mailer, [outcome] = run(repo, [person])
    assert sorted(m.to for m in mailer.sent) == ["ombuds-desk@example.com", "sup-1@example.com", "sup-2@example.com"]
    assert outcome.sent and outcome.detail.count("sent as") == 3


def test_a_holding_reply_goes_to_the_complainant_when_a_rule_says_so() -> None:
    repo, case = investigating(preferred_language="fr")
    _, events = escalate(repo, case, RECEIVED + timedelta(days=29))
    [escalated] = [e for e in events if e.type == "SlaEscalated"]
    holding = escalated.model_copy(update={"data": {**escalated.data, "actions": [{"do": "notify_complainant"}]}})
    mailer, [outcome] = run(repo, [holding])
    [mail] = mailer.sent
    assert outcome.sent and mail.to == "ada@example.com" and mail.kind == "holding_reply"
    assert not mail.to_staff  # to a complainant: under the hourly limit, the last guard against loops
    assert mail.subject.startswith("Votre réclamation CMP-2026-7K3F9Q : il nous faut un peu plus de temps")
    assert "au plus tard le" in mail.text and "ombudsman" in mail.text  # the recourse setting, as configured


def test_the_decision_and_a_request_for_information_reach_the_complainant_with_what_matters() -> None:
    _, changes = walk(Status.AWAITING_COMPLAINANT)
    repo = MemoryCaseRepository()
    repo.record(opening())
    for change in changes:
        repo.record(change)
    mailer, outcomes = run(repo, list(changes[-1].events))
    [mail] = mailer.sent
    assert mail.kind == "information_requested" and "Which account?" in mail.text and outcomes[0].sent

    decided, changes = walk(Status.DECISION_COMMUNICATED)
    repo = MemoryCaseRepository()
    repo.record(opening())
    for change in changes:
        repo.record(change)
    mailer, outcomes = run(repo, list(changes[-1].events))
    [mail] = mailer.sent  # on DecisionCommunicated only, not also on its CaseStatusChanged
    assert [o.sent for o in outcomes] == [False, True] and mail.kind == "decision"
    assert "Outcome: we uphold your complaint." in mail.text and decided.decision.reasons in mail.text
    assert "- a payment of 900.00 GBP" in mail.text
    assert "tell us why by" in mail.text and "the Financial Ombudsman Service" in mail.text


def test_every_kind_renders_in_every_language_and_a_missing_variable_fails() -> None:
    templates = MailTemplates(TEMPLATE_DIR)
    assert {"en", "fr"} <= set(templates.languages)
    kinds = templates.kinds("en")
    assert kinds >= {"acknowledgement", "holding_reply", "decision", "information_requested", "status_update",
                     "assigned", "at_risk", "breached"}
    for language in templates.languages:
        assert templates.kinds(language) == kinds, language
    when = datetime(2026, 6, 1, 9, 0)
    context = {"addressee": "Ada <script>", "recipient": "Bo", "reference": "CMP-1", "product": "Card", "zone": "UTC",
               "received": when, "due": when, "question": "Which?", "recourse": "Ombudsman.", "action": "close",
               "outcome": "upheld", "final": False, "reasons": "Because.", "actions_taken": [], "remedies": [],
               "reply_due": when, "external_body": "FOS", "external_time_limit": "six months",
               "external_details": "Free.", "priority": "normal", "status": "investigating", "assigned_by": None,
               "reason": "Late.", "owner": None, "milestone": "final response", "rule": "r", "level": 1,
               "files_left_out": [("scan <1>.pdf", "larger than 10.0 MB (it is 12.0 MB)")]}
    for language in templates.languages:
        for kind in kinds:
            rendered = templates.render(kind, language, **context)
            assert rendered.subject and "CMP-1" in rendered.text, (language, kind)
            assert "Ada &lt;script&gt;" in rendered.html or "Ada" not in rendered.text, (language, kind)
            if kind == "acknowledgement":  # the sender is told which files were not kept
                assert "scan <1>.pdf" in rendered.text and "scan &lt;1&gt;.pdf" in rendered.html, language
    with pytest.raises(UndefinedError, match="due"):
        templates.render("acknowledgement", "en", **{k: v for k, v in context.items() if k != "due"})
    with pytest.raises(ValueError, match="DefaultLanguage 'xx'"):
        MailTemplates(TEMPLATE_DIR, "xx")


def test_the_notifier_rule_lets_in_exactly_the_events_notifications_handle() -> None:
    from pathlib import Path

    from amends.services.notifications import HANDLERS
    from amends_local.template import Template

    rule = Template(Path(__file__).resolve().parents[2] / "template.yaml").raw["Resources"]["AcknowledgementSentRule"]
    pattern = rule["Properties"]["EventPattern"]
    assert set(pattern["detail-type"]) == set(HANDLERS) and pattern["source"] == ["amends.cases"]
    assert "detail" not in pattern  # every action of CaseStatusChanged: the notifier chooses which it answers


class FailsOnce(Mailer):
    """A mailer that fails (as SES's throttling would) the first time it is asked to mail ``address``."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address, self.failed = address, False

    def send(self, mail: OutgoingMail) -> str:
        if mail.to == self.address and not self.failed:
            self.failed = True
            raise ConnectionError("Throttling: Maximum sending rate exceeded")
        return super().send(mail)


def test_a_retried_event_resends_only_the_letters_that_did_not_go() -> None:
    from amends.services.outbound import GuardedMailer
    from tests.mail.memory_mail import MemorySentMail

    repo, case = investigating()
    _, events = escalate(repo, case, RECEIVED + timedelta(days=29))
    _, events = escalate(repo, _, RECEIVED + timedelta(days=46))  # level 2: the owner and both supervisors
    [escalated] = [e for e in events if e.type == "SlaEscalated"]
    inner, store = FailsOnce("sup-2@example.com"), MemorySentMail()
    guarded = GuardedMailer(inner, store, clock=type("C", (), {"now": lambda self: RECEIVED})(), settings=SETTINGS,
                            message_id_of=lambda provider_id: f"<{provider_id}@example.com>")
    with pytest.raises(ConnectionError):  # the batch handler fails the record; SQS redelivers it
        notifications.notify(escalated, repo=repo, mailer=guarded, settings=SETTINGS, staff=STAFF)
    first = sorted(m.to for m in inner.sent)
    outcome = notifications.notify(escalated, repo=repo, mailer=guarded, settings=SETTINGS, staff=STAFF)
    assert outcome.sent and len(inner.sent) == 3  # the retry sent only the letter that failed
    assert sorted(m.to for m in inner.sent) == ["handler-1@example.com", "sup-1@example.com", "sup-2@example.com"]
    assert len(first) == 2 and "sup-2@example.com" not in first
    again = notifications.notify(escalated.model_copy(update={"event_id": "another-event"}), repo=repo,
                                 mailer=guarded, settings=SETTINGS, staff=STAFF)
    assert again.sent and len(inner.sent) == 6  # a different event's letters are letters of their own


# -- escalation letters, rule by rule ---------------------------------------------------------------------------------

def escalated_at(days: int) -> tuple[MemoryCaseRepository, DomainEvent]:
    """An investigating case's SlaEscalated event, ``days`` after it was received (29: final-response level 1)."""
    repo, case = investigating()
    _, events = escalate(repo, case, RECEIVED + timedelta(days=days))
    [escalated] = [e for e in events if e.type == "SlaEscalated"]
    return repo, escalated


def with_data(event: DomainEvent, **data: object) -> DomainEvent:
    return event.model_copy(update={"data": {**event.data, **data}})


def test_an_escalation_letter_greets_its_reader_and_gives_the_milestones_due_time_in_the_organisations_zone() -> None:
    repo, escalated = escalated_at(29)
    mailer, [outcome] = run(repo, [escalated])
    [mail] = mailer.sent
    assert outcome == notifications.Outcome(True, "at_risk to handler-1@example.com: sent as msg-1")
    assert mail.text.startswith("Hello handler-1,\n")
    assert "\nDue: 28 July 2026 at 00:00 (Europe/London).\n" in mail.text  # the final response's, 23:00 UTC
    assert (mail.reply_to, mail.case_reference, mail.letter) == (
        "complaints@example.com", "CMP-2026-7K3F9Q", f"{escalated.event_id}/staff_at_risk/handler-1@example.com")
    assert mail.html.startswith("<!DOCTYPE html>") and "<p>Hello handler-1,</p>" in mail.html

    acknowledgement = with_data(escalated, rule="acknowledgement-late", milestone="acknowledgement", reason="Late.")
    mailer, _ = run(repo, [acknowledgement])  # the due time of the milestone the rule is about, not the final answer's
    assert "\nDue: 08 June 2026 at 17:30 (Europe/London).\n" in mailer.sent[0].text
    assert mailer.sent[0].subject == "Case CMP-2026-7K3F9Q at risk: acknowledgement (level 1)"


def test_an_escalation_read_while_the_clock_is_stopped_gives_no_due_time() -> None:
    repo, escalated = escalated_at(29)
    case = repo.get("CMP-2026-7K3F9Q")
    repo.record(steps.request_information(case, "Which account?", HANDLER, RECEIVED + timedelta(days=30)))
    mailer, [outcome] = run(repo, [escalated])
    assert outcome.sent and "Due:" not in mailer.sent[0].text


def test_a_person_named_by_address_is_greeted_by_it_and_the_complainant_hears_too() -> None:
    repo, escalated = escalated_at(29)
    both = with_data(escalated, actions=[{"do": "notify_complainant"},
                                         {"do": "notify_person", "address": "ombuds-desk@example.com"}])
    mailer, [outcome] = run(repo, [both])
    assert [(m.to, m.kind) for m in mailer.sent] == [("ada@example.com", "holding_reply"),
                                                     ("ombuds-desk@example.com", "staff_at_risk")]
    assert mailer.sent[1].text.startswith("Hello ombuds-desk@example.com,\n")
    assert outcome == notifications.Outcome(True, "sent as msg-1; at_risk to ombuds-desk@example.com: sent as msg-2")


def test_an_escalation_says_whom_it_could_not_find_and_a_rule_without_actions_notifies_no_one() -> None:
    repo, escalated = escalated_at(29)
    nobody = with_data(escalated, actions=[{"do": "notify_role", "role": "auditor"}, {"do": "notify_owner"}])
    mailer, [outcome] = run(repo, [nobody])
    assert outcome == notifications.Outcome(True, "at_risk to handler-1@example.com: sent as msg-1; "
                                                  "no address for role auditor")
    unknown = with_data(escalated, owner="nobody-9", actions=[{"do": "notify_owner"}])
    assert run(repo, [unknown])[1] == [notifications.Outcome(False, "no address for the owner nobody-9")]
    no_directory = notifications.notify(escalated, repo=repo, mailer=Mailer(), settings=SETTINGS, staff=None)
    assert no_directory == notifications.Outcome(False, "no address for staff (no staff directory)")
    silent = with_data(escalated, actions=[])
    assert run(repo, [silent])[1] == [notifications.Outcome(False, "escalation final-response#1 notifies no one")]


def test_an_at_risk_rule_is_at_risk_until_the_milestone_is_breached_and_a_late_sweep_tells_of_the_breach() -> None:
    repo, case = investigating()
    case, _ = escalate(repo, case, RECEIVED + timedelta(days=29))
    _, events = escalate(repo, case, RECEIVED + timedelta(days=46))  # level 2, at 80 %: still at risk
    mailer, _ = run(repo, [e for e in events if e.type == "SlaEscalated"])
    assert {m.kind for m in mailer.sent} == {"staff_at_risk"}

    repo, case = investigating()
    _, events = escalate(repo, case, RECEIVED + timedelta(days=60))  # every level at once, the deadline passed
    mailer, _ = run(repo, [e for e in events if e.type == "SlaEscalated"][:1])  # level 1, a share rule
    assert [(m.to, m.kind) for m in mailer.sent] == [("handler-1@example.com", "staff_breached")]


def test_an_overdue_rule_is_a_breach_even_when_it_does_not_mark_one() -> None:
    from amends.domain.escalation import Rule

    p = CONFIG.policies["fca-disp"]
    overdue = Rule(id="late-answer", milestone="final_response", level=1, overdue_by_hours=0,
                   actions=[{"do": "notify_role", "role": "manager"}])
    sla = CaseSla.open(Pinned.of(p, CONFIG.calendars[p.calendar], RECEIVED), [overdue])
    repo = MemoryCaseRepository()
    repo.record(change := open_case(reference="CMP-2026-7K3F9Q", access_token_hash="x" * 64, channel=Channel.WEB,
                                    submission=make_submission(), actor=COMPLAINANT, received_at=RECEIVED,
                                    received_at_local=RECEIVED, sla=sla))
    _, events = escalate(repo, change.case, RECEIVED + timedelta(days=60))
    mailer, _ = run(repo, [e for e in events if e.type == "SlaEscalated"])
    assert [(m.to, m.kind) for m in mailer.sent] == [("manager-1@example.com", "staff_breached")]


def test_an_escalation_of_a_case_stored_without_an_sla_still_tells_without_a_due_time() -> None:
    repo, escalated = escalated_at(29)
    repo.cases["CMP-2026-7K3F9Q"] = repo.get("CMP-2026-7K3F9Q").model_copy(update={"sla": None})
    mailer, [outcome] = run(repo, [escalated])
    assert outcome.sent and mailer.sent[0].kind == "staff_at_risk" and "Due:" not in mailer.sent[0].text
