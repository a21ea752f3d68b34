"""Quarantined mail reviewed by staff (services/quarantine.py), without the stack: released mail is processed again
with SES's verdicts set aside and the quarantined entry says by whom and into what; discarded mail says why; neither
leaves the mail log, and only a supervisor, a manager or an admin may do either."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from email.message import EmailMessage

import pytest
from amends.domain.clock import FixedClock
from amends.domain.errors import Forbidden, MailNotFound, NotQuarantined, ReleaseRefused
from amends.domain.mail_log import MailOutcome
from amends.domain.model import Actor, Role
from amends.services import email_intake, quarantine, replies
from amends.settings import Settings

from tests.unit.cases import T0
from tests.unit.memory import MemoryCaseRepository

from .memory_mail import CaseMailLog, MemorySentMail

SETTINGS = Settings(table_name="t", event_bus_name="b", sender_address="complaints@example.com",
                    reply_address="complaints@example.com")
SUPERVISOR = Actor(kind="staff", id="sup-1", roles=(Role.SUPERVISOR,))
HANDLER = Actor(kind="staff", id="handler-1", roles=(Role.HANDLER,))
LATER = T0 + timedelta(hours=3)


def message(sender: str | None = "Ada Lovelace <ada@example.com>") -> bytes:
    mail = EmailMessage()
    if sender:
        mail["From"] = sender
    mail["To"] = "complaints@example.com"
    mail["Subject"] = "Charged twice"
    mail["Message-ID"] = "<q1@mail.example.com>"
    mail.set_content("I was charged twice for one card payment.")
    return mail.as_bytes()


class Inbox:
    def __init__(self) -> None:
        self.repo = MemoryCaseRepository()
        self.log = CaseMailLog(self.repo)
        self.raw: dict[str, bytes] = {}
        self.desk = replies.MailDesk(store=MemorySentMail(), repo=self.repo)

    def receive(self, raw: bytes, ses_id: str = "ses-q1", **verdicts: str):
        self.raw[f"inbound/{ses_id}"] = raw
        receipt = email_intake.Receipt(ses_message_id=ses_id, raw_key=f"inbound/{ses_id}", received_at=T0,
                                       recipients=("complaints@example.com",), verdicts=verdicts)
        return email_intake.ingest(raw, receipt, mail_log=self.log, clock=FixedClock(T0), settings=SETTINGS,
                                   desk=self.desk)

    def read(self, key: str) -> bytes:
        return self.raw[key]

    def release(self, ses_id: str = "ses-q1", actor: Actor = SUPERVISOR):
        return quarantine.release(ses_id, actor, mail_log=self.log, raw_mail=self, clock=FixedClock(LATER),
                                  settings=SETTINGS, desk=self.desk)

    def discard(self, reason: str | None, ses_id: str = "ses-q1", actor: Actor = SUPERVISOR):
        return quarantine.discard(ses_id, actor, reason, mail_log=self.log, clock=FixedClock(LATER))


def test_released_mail_becomes_a_case_and_its_entry_says_who_released_it_into_what() -> None:
    inbox = Inbox()
    assert inbox.receive(message(), spam="FAIL").outcome is MailOutcome.QUARANTINED
    released, result = inbox.release()
    assert result.outcome is MailOutcome.CASE_CREATED and result.ses_message_id == "ses-q1.released"
    assert result.raw_key == "inbound/ses-q1" and result.received_at == T0
    case = inbox.repo.get(result.case_reference)
    assert case.submission.complainant.email == "ada@example.com"
    assert released.outcome is MailOutcome.RELEASED and released.case_reference == result.case_reference
    assert released.reason == (f"released by sup-1 at 2026-03-02T12:30:00Z: case_created {result.case_reference} "
                               f"(quarantined for: SES spam verdict FAIL)")
    assert inbox.log.get("ses-q1") == released  # stored, not only returned
    with pytest.raises(NotQuarantined, match="it is released"):
        inbox.release()
    assert len([e for e in inbox.log.entries.values() if e.outcome is MailOutcome.CASE_CREATED]) == 1


def test_a_release_cut_off_after_processing_is_finished_by_the_next_without_a_second_case() -> None:
    inbox = Inbox()
    inbox.receive(message(), dmarc="FAIL")
    inbox.receive(message(), ses_id="ses-q1.released")  # the first try processed it, then stopped
    released, result = inbox.release()
    assert released.outcome is MailOutcome.RELEASED and result.outcome is MailOutcome.CASE_CREATED
    assert released.case_reference == result.case_reference
    assert len([e for e in inbox.log.entries.values() if e.outcome is MailOutcome.CASE_CREATED]) == 1


def test_mail_that_cannot_become_a_case_even_released_stays_in_quarantine() -> None:
    inbox = Inbox()
    assert inbox.receive(message(sender=None)).outcome is MailOutcome.QUARANTINED
    with pytest.raises(ReleaseRefused, match="no sender address"):
        inbox.release()
    assert inbox.log.get("ses-q1").outcome is MailOutcome.QUARANTINED
    assert "ses-q1.released" not in inbox.log.entries


def test_discarded_mail_stays_in_the_log_saying_who_discarded_it_and_why() -> None:
    inbox = Inbox()
    inbox.receive(message(), virus="FAIL")
    discarded = inbox.discard("  a known phishing campaign ")
    assert discarded.outcome is MailOutcome.DISCARDED and discarded.case_reference is None
    assert discarded.reason == ("discarded by sup-1 at 2026-03-02T12:30:00Z: a known phishing campaign "
                                "(quarantined for: SES virus verdict FAIL)")
    assert inbox.log.get("ses-q1") == discarded
    with pytest.raises(NotQuarantined, match="it is discarded"):
        inbox.release()
    inbox.receive(message(), "ses-q2", spam="FAIL")
    inbox.discard(None, ses_id="ses-q2")
    assert inbox.log.get("ses-q2").reason.startswith("discarded by sup-1 at 2026-03-02T12:30:00Z: no reason given")


def test_only_senior_staff_review_quarantine_and_only_quarantined_mail() -> None:
    inbox = Inbox()
    inbox.receive(message(), spam="FAIL")
    with pytest.raises(Forbidden, match="supervisor, a manager or an admin"):
        inbox.release(actor=HANDLER)
    with pytest.raises(Forbidden):
        inbox.discard("spam", actor=HANDLER)
    assert inbox.log.get("ses-q1").outcome is MailOutcome.QUARANTINED
    with pytest.raises(MailNotFound, match="No inbound message with id ses-nope"):
        inbox.release("ses-nope")
    inbox.receive(message(), "ses-ok")  # passed: a case, not quarantine
    with pytest.raises(NotQuarantined, match="it is case_created"):
        inbox.discard("spam", ses_id="ses-ok")
    for role in (Role.MANAGER, Role.ADMIN):
        inbox.receive(message(), f"ses-{role.value}", spam="FAIL")
        assert inbox.discard("spam", ses_id=f"ses-{role.value}", actor=Actor(kind="staff", id="x", roles=(role,)))


def test_a_released_reply_to_our_mail_goes_into_its_case_with_its_recipients_and_files() -> None:
    from amends.domain.lifecycle import Status
    from amends.domain.sent_mail import SentMail

    from tests.unit.cases import opening, walk

    from .test_email_files import PDF, MemoryFiles
    from .test_replies import OURS, REF, reply

    inbox, files = Inbox(), MemoryFiles()
    inbox.repo.record(opening(REF))
    for change in walk(Status.INVESTIGATING)[1]:
        inbox.repo.record(change)
    inbox.desk.store.record_sent(SentMail(message_id=OURS, case_reference=REF, kind="acknowledgement",
                                          to="ada@example.com", sent_at=T0))
    answer = email.message_from_bytes(reply("The statement is attached."), policy=email.policy.default)
    answer.add_attachment(PDF, maintype="application", subtype="pdf", filename="statement.pdf")
    inbox.receive(answer.as_bytes(), spam="FAIL")
    released, result = quarantine.release("ses-q1", SUPERVISOR, mail_log=inbox.log, raw_mail=inbox,
                                          clock=FixedClock(LATER), settings=SETTINGS, desk=inbox.desk, files=files)
    assert (result.outcome, result.case_reference) == (MailOutcome.ADDED_TO_CASE, REF)
    assert result.recipients == ("complaints@example.com",) and released.case_reference == REF
    assert [f.filename for f in inbox.repo.get(REF).files] == ["statement.pdf"] and len(files.objects) == 1


def test_a_released_auto_reply_is_logged_as_what_it_became_without_a_case() -> None:
    inbox = Inbox()
    auto = email.message_from_bytes(message(), policy=email.policy.default)
    auto["Auto-Submitted"] = "auto-replied"
    inbox.receive(auto.as_bytes(), spam="FAIL")
    released, result = inbox.release()
    assert result.outcome is MailOutcome.AUTO_REPLY_IGNORED and released.case_reference is None
    assert released.reason == ("released by sup-1 at 2026-03-02T12:30:00Z: auto_reply_ignored "
                               "(quarantined for: SES spam verdict FAIL)")


def test_a_review_refused_says_who_may_review_and_which_message_is_not_in_quarantine() -> None:
    inbox = Inbox()
    inbox.receive(message(), "ses-ok")
    with pytest.raises(Forbidden) as refused:
        inbox.release("ses-ok", actor=HANDLER)
    assert str(refused.value) == "Releasing or discarding quarantined mail is for a supervisor, a manager or an admin."
    with pytest.raises(NotQuarantined) as passed:
        inbox.release("ses-ok")
    assert str(passed.value).startswith("Message ses-ok is not in quarantine: it is case_created.")


def test_the_review_time_is_in_utc_whatever_the_servers_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    inbox = Inbox()
    inbox.receive(message(), spam="FAIL")
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        discarded = inbox.discard("spam")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert discarded.reason.startswith("discarded by sup-1 at 2026-03-02T12:30:00Z: spam")
