"""SES's feedback about mail we sent (services/mail_feedback.py), without the stack: a permanent bounce or a
complaint marks the address we mailed and tells its case; a transient bounce, feedback about mail that is not ours
and other event types change nothing; a notification naming other addresses cannot silence them."""

from __future__ import annotations

from amends.domain.clock import FixedClock
from amends.domain.lifecycle import Status
from amends.domain.sent_mail import SentMail
from amends.services.mail_feedback import FeedbackOutcome, record_feedback

from tests.unit.cases import T0

from .memory_mail import MemorySentMail
from .test_replies import OURS, REF, Desk

PROVIDER_ID = OURS.split("@")[0]


def bounce(kind: str = "Permanent", *addresses: str) -> dict:
    recipients = [{"emailAddress": a, "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}
                  for a in addresses or ("Ada@Example.com",)]
    return {"eventType": "Bounce", "mail": {"messageId": PROVIDER_ID},
            "bounce": {"bounceType": kind, "bouncedRecipients": recipients, "feedbackId": "f1"}}


def record(desk: Desk, notification: dict):
    return record_feedback(notification, store=desk.store, repo=desk.repo, clock=FixedClock(T0),
                           message_id_of=lambda pid: f"{pid}@eu-west-2.amazonses.com")


def test_a_permanent_bounce_marks_the_address_and_tells_the_case() -> None:
    desk = Desk(Status.INVESTIGATING)
    outcome = record(desk, bounce())
    why = "bounced (Ada@Example.com: 5.1.1 smtp; 550 5.1.1 user unknown)"
    assert outcome.marked == ("ada@example.com",) and outcome.case_reference == REF
    assert desk.store.undeliverable("ada@example.com") == why
    last = desk.repo.get_with_timeline(REF).timeline[-1]
    assert last.action == "record_bounce" and not last.complainant_visible
    assert last.reason == f"bounce of our acknowledgement <{OURS}>: {why}; address marked undeliverable"


def test_a_complaint_marks_the_address_too() -> None:
    desk = Desk(Status.INVESTIGATING)
    outcome = record(desk, {"eventType": "Complaint", "mail": {"messageId": PROVIDER_ID}, "complaint": {
        "complainedRecipients": [{"emailAddress": "ada@example.com"}], "complaintFeedbackType": "fraud"}})
    assert outcome.kind == "complaint" and outcome.marked == ("ada@example.com",)
    assert desk.store.undeliverable("ada@example.com") == "complained: marked our mail as spam (fraud)"


def test_a_transient_bounce_changes_nothing() -> None:
    desk = Desk(Status.INVESTIGATING)
    before = len(desk.repo.get_with_timeline(REF).timeline)
    outcome = record(desk, bounce("Transient"))
    assert outcome.marked == () and outcome.detail == "Transient bounce: SES retries it; nothing marked"
    assert desk.store.undeliverable("ada@example.com") is None
    assert len(desk.repo.get_with_timeline(REF).timeline) == before


def test_only_the_address_we_mailed_is_marked() -> None:
    desk = Desk(Status.INVESTIGATING)
    outcome = record(desk, bounce("Permanent", "someone-else@example.com"))
    assert outcome.marked == () and desk.store.undeliverable("someone-else@example.com") is None
    assert outcome.detail.endswith("user unknown)")  # still told to the case: it is about our message
    assert not outcome.detail.endswith("address marked undeliverable")


def test_feedback_about_mail_that_is_not_ours_or_not_a_bounce_is_ignored() -> None:
    desk = Desk(Status.INVESTIGATING)
    stranger = {**bounce(), "mail": {"messageId": "not-ours"}}
    assert record(desk, stranger).detail == "about not-ours, which is not mail we sent"
    assert record(desk, {"eventType": "Delivery", "mail": {"messageId": PROVIDER_ID}}).detail == \
        "not a bounce or a complaint: ignored"
    assert desk.store.undeliverable("ada@example.com") is None


def test_mail_sent_on_no_case_only_marks_the_address() -> None:
    desk = Desk(Status.INVESTIGATING)
    desk.store.record_sent(SentMail(message_id="0100-x@eu-west-2.amazonses.com", case_reference=None,
                                    kind="staff_at_risk", to="sup@example.com", sent_at=T0))
    outcome = record(desk, {**bounce("Permanent", "sup@example.com"), "mail": {"messageId": "0100-x"}})
    assert outcome.marked == ("sup@example.com",) and outcome.case_reference is None


def test_the_outcome_names_the_kind_and_the_case_whatever_becomes_of_it() -> None:
    desk = Desk(Status.INVESTIGATING)
    transient = record(desk, bounce("Transient"))
    assert (transient.kind, transient.case_reference) == ("bounce", REF)
    assert record(desk, {**bounce(), "mail": {"messageId": "not-ours"}}).kind == "bounce"
    assert record(desk, {"mail": {"messageId": PROVIDER_ID}}).kind == "unknown"
    undetermined = record(desk, {"eventType": "Bounce", "mail": {"messageId": PROVIDER_ID}, "bounce": {}})
    assert undetermined.detail == "unknown bounce: SES retries it; nothing marked"


def test_classic_identity_notifications_are_read_too() -> None:
    desk = Desk(Status.INVESTIGATING)
    classic = {k: v for k, v in bounce().items() if k != "eventType"} | {"notificationType": "Bounce"}
    outcome = record(desk, classic)
    assert outcome.kind == "bounce" and outcome.marked == ("ada@example.com",)


def test_a_notification_without_a_message_id_is_not_about_our_mail() -> None:
    desk = Desk(Status.INVESTIGATING)
    outcome = record(desk, {**bounce(), "mail": {}})
    assert outcome.detail == "about no message id, which is not mail we sent" and outcome.marked == ()


def test_every_bounced_recipient_is_named_with_its_status_or_a_general_failure() -> None:
    desk = Desk(Status.INVESTIGATING)
    notification = bounce()
    notification["bounce"]["bouncedRecipients"] = [{"emailAddress": "ada@example.com"},
                                                   {"emailAddress": "bo@example.com", "status": "5.2.2",
                                                    "diagnosticCode": "mailbox full"}]
    outcome = record(desk, notification)
    assert desk.store.undeliverable("ada@example.com") == \
        "bounced (ada@example.com: 5.0.0; bo@example.com: 5.2.2 mailbox full)"
    assert outcome.marked == ("ada@example.com",)
    at = desk.repo.get_with_timeline(REF).timeline[-1].at
    assert at == T0


def test_a_complaint_without_a_feedback_type_is_taken_as_abuse_and_an_address_missing_marks_nobody() -> None:
    desk = Desk(Status.INVESTIGATING)
    outcome = record(desk, {"eventType": "Complaint", "mail": {"messageId": PROVIDER_ID},
                            "complaint": {"complainedRecipients": [{"emailAddress": "ada@example.com"}, {}]}})
    assert outcome.marked == ("ada@example.com",)
    assert outcome.detail == (f"complaint of our acknowledgement <{OURS}>: complained: marked our mail as spam "
                              f"(abuse); address marked undeliverable")


def test_mail_on_no_case_says_so() -> None:
    desk = Desk(Status.INVESTIGATING)
    desk.store.record_sent(SentMail(message_id="0100-y@eu-west-2.amazonses.com", case_reference=None,
                                    kind="staff_at_risk", to="sup@example.com", sent_at=T0))
    outcome = record(desk, {**bounce("Permanent", "sup@example.com"), "mail": {"messageId": "0100-y"}})
    assert (outcome.kind, outcome.detail) == ("bounce", "bounced (sup@example.com: 5.1.1 smtp; 550 5.1.1 user unknown)")


def test_a_transient_bounce_or_another_event_about_mail_that_is_not_ours_names_no_case() -> None:
    desk = Desk(Status.INVESTIGATING)
    stranger = {**bounce("Transient"), "mail": {"messageId": "not-ours"}}
    assert record(desk, stranger) == FeedbackOutcome("bounce", (), None,
                                                     "Transient bounce: SES retries it; nothing marked")
    delivery = {"eventType": "Delivery", "mail": {"messageId": PROVIDER_ID}}
    assert record(desk, delivery) == FeedbackOutcome("delivery", (), None, "not a bounce or a complaint: ignored")


class DatedMarks(MemorySentMail):
    """The record of sent mail, keeping when each address was marked undeliverable."""

    def __init__(self) -> None:
        super().__init__()
        self.marked_at: dict[str, object] = {}

    def mark_undeliverable(self, address: str, reason: str, at) -> None:  # noqa: ANN001 - as the port
        super().mark_undeliverable(address, reason, at)
        self.marked_at[address.lower()] = at


def test_an_address_is_marked_undeliverable_as_of_the_clock() -> None:
    desk = Desk(Status.INVESTIGATING)
    desk.store = DatedMarks()
    desk.store.record_sent(SentMail(message_id=OURS, case_reference=REF, kind="acknowledgement",
                                    to="ada@example.com", sent_at=T0))
    record(desk, bounce())
    assert desk.store.marked_at == {"ada@example.com": T0}


def test_a_bounce_of_mail_on_a_case_that_is_gone_marks_the_address_and_names_no_case() -> None:
    desk = Desk(Status.INVESTIGATING)
    desk.store.record_sent(SentMail(message_id="0100-z@eu-west-2.amazonses.com", case_reference="CMP-2026-4M5N6P",
                                    kind="acknowledgement", to="bo@example.com", sent_at=T0))
    outcome = record(desk, {**bounce("Permanent", "bo@example.com"), "mail": {"messageId": "0100-z"}})
    why = "bounced (bo@example.com: 5.1.1 smtp; 550 5.1.1 user unknown)"
    assert outcome == FeedbackOutcome("bounce", ("bo@example.com",), None, why)
    assert desk.store.undeliverable("bo@example.com") == why
