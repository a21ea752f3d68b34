"""Receipt by email (amends.services.email_intake) beyond the corpus of tests/mail: SES's verdicts and the reason each
gives, the complaint an email makes (name, description, what is not stated), the mail-log entry's fields, and what
happens when a reference is taken or a redelivery races us."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from amends.domain.clock import FixedClock
from amends.domain.inbound_mail import InboundMail
from amends.domain.mail_log import MailOutcome
from amends.domain.model import Channel
from amends.services import email_intake
from amends.services.email_intake import Receipt, submission_from, verdict_refusal
from amends.settings import Settings

from tests.mail.memory_mail import CaseMailLog

from .memory import MemoryCaseRepository

AT = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
SETTINGS = Settings(table_name="t", event_bus_name="b", reference_prefix="CMP")


def receipt(ses_id: str = "ses-1", **kw: object) -> Receipt:
    return Receipt(ses_message_id=ses_id, raw_key=f"inbound/{ses_id}", received_at=AT, **kw)  # type: ignore[arg-type]


def email(sender: str = "Ada Lovelace <ada@example.com>", subject: str = "Charged twice", body: str = "Refund me.",
          message_id: str = "<CAF-1@mail.example>") -> bytes:
    m = EmailMessage()
    m["From"], m["Subject"], m["Message-ID"] = sender, subject, message_id
    m.set_content(body)
    return m.as_bytes()


def mail(**fields: object) -> InboundMail:
    data: dict[str, object] = {"message_id": None, "sender_address": "ada@example.com", "sender_name": None,
                               "subject": "Charged twice", "text": "Refund me.", "date": None}
    return InboundMail(**{**data, **fields})  # type: ignore[arg-type]


def ingest(raw: bytes, log: CaseMailLog, r: Receipt | None = None):
    return email_intake.ingest(raw, r or receipt(recipients=("complaints@example.com",)), mail_log=log,
                               clock=FixedClock(AT), settings=SETTINGS)


@pytest.mark.parametrize(("verdicts", "policy", "why"), [
    ({"virus": "FAIL", "spam": "FAIL"}, None, "SES virus verdict FAIL"),
    ({"spam": "fail", "dmarc": "FAIL"}, "REJECT", "SES spam verdict FAIL"),
    ({"dmarc": "FAIL"}, "REJECT", "SES dmarc verdict FAIL (sender's policy: REJECT)"),
    ({"dmarc": "FAIL"}, None, "SES dmarc verdict FAIL"),
    ({"virus": "PASS", "spam": "GRAY", "dmarc": "PROCESSING_FAILED", "spf": "FAIL"}, "REJECT", None),
    ({}, None, None),
])
def test_only_a_failed_virus_spam_or_dmarc_verdict_refuses_the_mail(verdicts, policy, why) -> None:
    assert verdict_refusal(receipt(verdicts=verdicts, dmarc_policy=policy)) == why


def test_the_complaint_is_the_senders_with_the_subject_then_the_text_and_nothing_else_stated() -> None:
    sub = submission_from(mail(sender_name="Ada Lovelace"))
    assert (sub.complainant.name, sub.complainant.email) == ("Ada Lovelace", "ada@example.com")
    assert sub.description == "Charged twice\n\nRefund me."
    assert (sub.product_or_service, sub.remedy_sought) == ("Not stated (complaint by email)", "unknown")


def test_without_a_name_the_address_before_the_at_sign_is_the_name() -> None:
    assert submission_from(mail()).complainant.name == "ada"


def test_a_long_name_is_cut_to_200_characters() -> None:
    assert submission_from(mail(sender_name="N" * 250)).complainant.name == "N" * 200


@pytest.mark.parametrize(("subject", "text", "description"), [
    ("", "Refund me.", "Refund me."), ("Charged twice", "  ", "Charged twice"),
    ("", "", "(The email had no subject and no text.)"),
])
def test_the_description_is_what_the_email_has(subject: str, text: str, description: str) -> None:
    assert submission_from(mail(subject=subject, text=text)).description == description


def test_a_description_is_cut_to_the_longest_text_allowed() -> None:
    assert len(submission_from(mail(subject="s", text="x" * 100_010)).description) == 100_000


def test_no_sender_address_or_a_bad_one_says_why_it_cannot_be_a_case() -> None:
    with pytest.raises(ValueError) as no_sender:
        submission_from(mail(sender_address=None))
    assert str(no_sender.value) == "no sender address (From, Sender and Reply-To hold none): nobody to answer"
    with pytest.raises(ValueError) as bad:
        submission_from(mail(sender_address="ada@localhost"))
    assert str(bad.value) == ("cannot become a case: email: Value error, value is not a valid email address: the "
                              "part after the @-sign (localhost) is not a domain name that receives mail, such as "
                              "example.com")


def test_a_case_is_opened_by_email_and_its_entry_says_everything_about_the_mail() -> None:
    repo = MemoryCaseRepository()
    entry = ingest(email(subject="S" * 250), CaseMailLog(repo))
    assert entry.outcome is MailOutcome.CASE_CREATED and entry.reason is None
    assert (entry.ses_message_id, entry.raw_key, entry.received_at, entry.message_id, entry.sender) == (
        "ses-1", "inbound/ses-1", AT, "CAF-1@mail.example", "ada@example.com")
    assert entry.subject == "S" * 200 and entry.recipients == ("complaints@example.com",)
    case = repo.get(entry.case_reference)
    assert case.reference.startswith("CMP-2026-") and case.channel is Channel.EMAIL
    assert case.received_at == AT and case.received_at_local.utcoffset().total_seconds() == 3600  # BST
    assert repo.timelines[case.reference][0].actor.kind == "complainant"


def test_a_quarantined_mail_without_a_subject_has_none_in_its_entry() -> None:
    entry = ingest(email(sender="undisclosed-recipients:;", subject=""), CaseMailLog(MemoryCaseRepository()))
    assert entry.outcome is MailOutcome.QUARANTINED and entry.subject is None and entry.sender is None
    assert entry.reason == "no sender address (From, Sender and Reply-To hold none): nobody to answer"


def test_a_refused_verdict_is_quarantined_with_its_reason() -> None:
    log = CaseMailLog(MemoryCaseRepository())
    entry = ingest(email(), log, receipt(verdicts={"virus": "FAIL"}))
    assert (entry.outcome, entry.reason, entry.case_reference) == (MailOutcome.QUARANTINED, "SES virus verdict FAIL",
                                                                   None)
    assert log.get("ses-1") == entry


def test_an_automatic_mail_is_ignored_with_the_rule_that_matched() -> None:
    entry = ingest(email(sender="postmaster@example.com"), CaseMailLog(MemoryCaseRepository()))
    assert (entry.outcome, entry.reason) == (MailOutcome.AUTO_REPLY_IGNORED,
                                             "sender postmaster@example.com is not a person")


def test_the_same_message_id_again_is_a_duplicate_naming_the_case_it_made() -> None:
    log = CaseMailLog(MemoryCaseRepository())
    first = ingest(email(), log)
    again = ingest(email(), log, receipt("ses-2"))
    assert (again.outcome, again.case_reference, again.reason) == (
        MailOutcome.DUPLICATE, first.case_reference, "Message-ID CAF-1@mail.example made a case already")


def test_a_reference_someone_else_took_is_drawn_again() -> None:
    repo = MemoryCaseRepository()
    repo.races = 4
    entry = ingest(email(), CaseMailLog(repo))
    assert entry.outcome is MailOutcome.CASE_CREATED and len(repo.cases) == 5
    assert repo.get(entry.case_reference).submission.complainant.email == "ada@example.com"


def test_after_five_taken_references_ingestion_fails_for_lambda_to_retry() -> None:
    repo = MemoryCaseRepository()
    repo.races = 5
    with pytest.raises(RuntimeError) as failed:
        ingest(email(), CaseMailLog(repo))
    assert str(failed.value) == "could not draw a free reference in 5 tries; the reference space is full"


class RacedLog(CaseMailLog):
    """A redelivery of the same SES message wrote its entry between our first look and our write."""

    def __init__(self, repo: MemoryCaseRepository, theirs) -> None:
        super().__init__(repo)
        self.theirs, self.looks = theirs, 0

    def get(self, ses_message_id):
        self.looks += 1
        if self.looks == 1:
            return None
        self.entries.setdefault(self.theirs.ses_message_id, self.theirs)
        return super().get(ses_message_id)

    def record_case(self, change, entry, *, message_id_key):
        self.entries.setdefault(entry.ses_message_id, self.theirs)
        return super().record_case(change, entry, message_id_key=message_id_key)


def test_a_redelivery_that_raced_us_gives_its_own_entry() -> None:
    theirs = ingest(email(), CaseMailLog(MemoryCaseRepository()))
    repo = MemoryCaseRepository()
    assert ingest(email(), RacedLog(repo, theirs)) == theirs and repo.cases == {}


def test_a_redelivery_gives_the_earlier_entry_and_changes_nothing() -> None:
    repo = MemoryCaseRepository()
    log = CaseMailLog(repo)
    first = ingest(email(), log)
    assert ingest(email(body="other"), log) == first and len(repo.cases) == 1


def test_a_case_by_email_has_the_organisations_reference_prefix_and_is_opened_by_its_complainant() -> None:
    repo = MemoryCaseRepository()
    entry = email_intake.ingest(email(), receipt(), mail_log=CaseMailLog(repo), clock=FixedClock(AT),
                                settings=SETTINGS.model_copy(update={"reference_prefix": "ABC"}))
    assert entry.case_reference.startswith("ABC-2026-")
    assert repo.timelines[entry.case_reference][0].actor.model_dump() == {"kind": "complainant", "id": "complainant",
                                                                         "roles": ()}
