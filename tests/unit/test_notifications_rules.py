"""Which event sends which letter (amends.services.notifications) beyond tests/unit/test_notifications.py: the status
updates a complainant hears about and their due date (the organisation's day, not UTC's), the question asked, a
final decision, when nothing is sent and the reason given, each letter's key, and an assignment's letter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from amends.domain.events import DomainEvent, EventActor
from amends.domain.lifecycle import Status
from amends.domain.model import Consent, ContactChannel, Person, Representative
from amends.services import notifications
from amends.services.outbound import MailRefused
from amends.settings import Settings

from .cases import opening, walk
from .memory import MemoryCaseRepository, MemoryStaffDirectory

REF = "CMP-2026-7K3F9Q"
SETTINGS = Settings(table_name="t", event_bus_name="b", sender_address="complaints@example.com")
LATE = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # due 56 days on: 27 April 23:30 UTC, 28 April in London (BST)
STAFF = MemoryStaffDirectory({"handler-2": ("Handler-2@Example.com", ("handler",))})


class Mailer:
    def __init__(self, refuse: str | None = None) -> None:
        self.sent: list = []
        self.refuse = refuse

    def send(self, mail) -> str:
        if self.refuse:
            raise MailRefused(self.refuse)
        self.sent.append(mail)
        return f"msg-{len(self.sent)}"


def stored(at: datetime = LATE, **submission: object) -> MemoryCaseRepository:
    repo = MemoryCaseRepository()
    repo.record(opening(REF, at, **submission))
    return repo


def event(type_: str = "CaseStatusChanged", actor: EventActor | None = None, **data: object) -> DomainEvent:
    return DomainEvent(event_id="evt-1", type=type_, case_reference=REF.lower(), case_version=1, occurred_at=LATE,
                       actor=actor or EventActor(kind="staff", id="handler-1"), data=data)


def notify(repo: MemoryCaseRepository, e: DomainEvent, mailer: Mailer | None = None, staff=STAFF):
    mailer = mailer or Mailer()
    return notifications.notify(e, repo=repo, mailer=mailer, settings=SETTINGS, staff=staff), mailer.sent


@pytest.mark.parametrize(("action", "subject", "says"), [
    ("start_investigation", "we are looking into it", "We have started looking into your complaint about Current "
                                                      "account (reference CMP-2026-7K3F9Q)."),
    ("receive_information", "thank you for the information", "Thank you for the information you sent"),
    ("reopen", "your case is reopened", "We have reopened your complaint about Current account"),
])
def test_a_status_update_tells_the_complainant_what_happens_and_by_when(action: str, subject: str, says: str) -> None:
    outcome, [mail] = notify(stored(), event(action=action))
    assert (outcome.sent, outcome.detail) == (True, "sent as msg-1")
    assert (mail.to, mail.kind, mail.subject) == ("ada@example.com", "status_update", f"Your complaint {REF}: {subject}")
    assert says in mail.text and "You can expect our next answer by 28 April 2026." in mail.text
    assert (mail.reply_to, mail.case_reference, mail.letter) == ("complaints@example.com", REF,
                                                                 "evt-1/status_update/ada@example.com")
    assert mail.html.startswith("<!DOCTYPE html>") and "28 April 2026" in mail.html


def test_closing_the_case_says_so_without_a_date() -> None:
    _, [mail] = notify(stored(), event(action="close"))
    assert mail.subject == f"Your complaint {REF}: your case is closed" and "expect our next answer" not in mail.text


def test_an_acknowledgement_gives_the_final_response_date_of_the_organisations_day() -> None:
    outcome, [mail] = notify(stored(), event(action="acknowledge"))
    assert outcome.sent and mail.kind == "acknowledgement" and mail.letter == "evt-1/acknowledgement/ada@example.com"
    assert "We received it on 02 March 2026 at 23:30 (Europe/London)." in mail.text
    assert "We will send you our final response by 28 April 2026." in mail.text


def test_a_request_for_information_asks_the_event_s_question_when_the_case_holds_none() -> None:
    _, [mail] = notify(stored(), event(action="request_information", reason="Which branch was it?"))
    assert mail.kind == "information_requested" and "\nWhich branch was it?\n" in mail.text


def test_other_steps_and_events_send_nothing_saying_why() -> None:
    repo = stored()
    assert notify(repo, event(action="assess")) == (
        notifications.Outcome(False, "no notification for CaseStatusChanged"), [])
    for action in ("communicate_decision", "conclude_review"):
        assert notify(repo, event(action=action)) == (
            notifications.Outcome(False, "the decision is sent on DecisionCommunicated"), [])
    assert notify(repo, event("MessageAdded")) == (notifications.Outcome(False, "no notification for MessageAdded"), [])
    assert notify(repo, event("DecisionCommunicated")) == (notifications.Outcome(False, "the case holds no decision"),
                                                           [])


def test_a_final_decision_asks_for_no_reply_and_names_the_ombudsman() -> None:
    repo = MemoryCaseRepository()
    repo.record(opening(REF))
    for change in walk(Status.DECISION_COMMUNICATED, occurrence=2)[1]:
        repo.record(change)
    outcome, [mail] = notify(repo, event("DecisionCommunicated"))
    assert outcome.sent and mail.subject == f"Your complaint {REF}: our final decision"
    assert "If you do not accept" not in mail.text
    assert "within six months of this final decision." in mail.text


def test_a_complainant_who_prefers_another_channel_or_gave_no_consent_gets_no_email() -> None:
    phone = stored(complainant=Person(name="Ada", email="ada@example.com", phone="0123"),
                   preferred_contact_channel=ContactChannel.PHONE)
    assert notify(phone, event(action="close")) == (
        notifications.Outcome(False, "preferred channel is phone: sent by staff, not by email"), [])
    silent = stored(consent=Consent(contact=False))
    assert notify(silent, event(action="close")) == (
        notifications.Outcome(False, "the complainant did not agree to be contacted"), [])


def test_the_representative_gets_the_complainants_letters() -> None:
    repo = stored(representative=Representative(name="Bo Smith", email="Bo@Law.example", relationship="solicitor"))
    _, [mail] = notify(repo, event(action="close"))
    assert mail.to == "Bo@law.example" and mail.letter == "evt-1/status_update/bo@law.example"
    assert mail.text.startswith("Dear Bo Smith,")


def test_a_letter_the_guard_refuses_is_not_sent_and_says_why() -> None:
    assert notify(stored(), event(action="close"), Mailer(refuse="ada@example.com is marked undeliverable: x")) == (
        notifications.Outcome(False, "ada@example.com is marked undeliverable: x"), [])


def test_an_assignment_by_the_system_names_no_one_who_assigned_it() -> None:
    outcome, [mail] = notify(stored(), event("CaseAssigned", EventActor(kind="system", id="handler-2"),
                                             owner="handler-2"))
    assert outcome == notifications.Outcome(True, "assigned to Handler-2@Example.com: sent as msg-1")
    assert (mail.kind, mail.letter) == ("staff_assigned", "evt-1/staff_assigned/handler-2@example.com")
    assert "is now yours." in mail.text and "Reason:" not in mail.text
    assert "Its final response is due by 28 April 2026 at 00:30 (Europe/London)." in mail.text


def test_an_assignment_without_owner_or_directory_sends_nothing_saying_why() -> None:
    repo = stored()
    assert notify(repo, event("CaseAssigned", owner=None)) == (notifications.Outcome(False, "no owner to tell"), [])
    assert notify(repo, event("CaseAssigned", owner="handler-2"), staff=None) == (
        notifications.Outcome(False, "no address for handler-2 in the staff directory"), [])
    assert notify(repo, event("CaseAssigned", EventActor(kind="staff", id="handler-2"), owner="handler-2")) == (
        notifications.Outcome(False, "handler-2 took the case themselves"), [])


def test_a_decision_gives_the_day_to_answer_by_in_the_organisations_zone() -> None:
    repo = MemoryCaseRepository()
    repo.record(opening(REF, LATE))
    for change in walk(Status.DECISION_COMMUNICATED, at=LATE)[1]:  # answer due 28 days on: 30 March 23:30 UTC
        repo.record(change)
    _, [mail] = notify(repo, event("DecisionCommunicated"))
    assert "tell us why by 31 March 2026 and" in mail.text  # 00:30 on 31 March in London (BST)


def test_an_events_letter_joins_the_cases_thread_and_one_sent_without_an_event_has_no_key() -> None:
    from tests.mail.memory_mail import MemorySentMail

    repo, store, mailer = stored(), MemorySentMail(), Mailer()
    notifications.notify(event(action="close"), repo=repo, mailer=mailer, settings=SETTINGS, threads=store)
    [mail] = mailer.sent
    assert mail.reply_to == f"complaints+{store.reply_token(REF)}@example.com"  # the case's reply address
    notifications.send_acknowledgement(REF, repo=repo, mailer=mailer, settings=SETTINGS)
    assert mailer.sent[1].kind == "acknowledgement" and mailer.sent[1].letter is None
