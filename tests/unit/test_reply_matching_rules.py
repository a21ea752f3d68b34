"""The reply-matching rules (amends.domain.reply_matching) beyond tests/mail/test_reply_matching.py: the reason each
match gives (written in the mail log for staff), our mail that is about no case, a token lookup only for a token
found, a subject naming a case no one has before one that exists, and a stranger or no sender at all."""

from __future__ import annotations

from datetime import UTC, datetime

from amends.domain.reply_matching import Lookups, MatchedBy, ReplyClues, ReplyMatch, match_reply
from amends.domain.sent_mail import SentMail

REF = "CMP-2026-7K3F9Q"
OURS, STAFF_MAIL = "ours-1@eu-west-2.amazonses.com", "staff-1@eu-west-2.amazonses.com"
SENT = {OURS: SentMail(message_id=OURS, case_reference=REF, kind="decision", to="ada@example.com",
                       sent_at=datetime(2026, 7, 1, tzinfo=UTC)),
        STAFF_MAIL: SentMail(message_id=STAFF_MAIL, case_reference=None, kind="staff_assigned", to="h@example.com",
                             sent_at=datetime(2026, 7, 1, tzinfo=UTC))}


def look(case_of_token=lambda token: None) -> Lookups:
    return Lookups(sent=SENT.get, case_of_token=case_of_token, contacts_of={REF: ("Ada@Example.com ",)}.get,
                   reply_base="complaints@example.com", reference_prefix="CMP")


def clues(**fields: object) -> ReplyClues:
    return ReplyClues(**{"sender": "ada@example.com", "subject": "Re: hello", **fields})  # type: ignore[arg-type]


def test_in_reply_to_says_which_of_our_messages_it_names() -> None:
    assert match_reply(clues(in_reply_to=(OURS,)), look()) == ReplyMatch(
        REF, MatchedBy.MESSAGE_ID, True, f"In-Reply-To names our message <{OURS}> (decision)")


def test_references_say_so_too() -> None:
    assert match_reply(clues(references=(OURS, "theirs@x")), look()) == ReplyMatch(
        REF, MatchedBy.MESSAGE_ID, True, f"References names our message <{OURS}> (decision)")


def test_our_mail_about_no_case_is_passed_over_for_the_next_message_id() -> None:
    assert match_reply(clues(in_reply_to=(STAFF_MAIL,)), look()) is None
    found = match_reply(clues(in_reply_to=(STAFF_MAIL,), references=(OURS,)), look())
    assert found and found.reference == REF and found.why.startswith("References")


def test_a_token_match_says_it_came_to_the_reply_address() -> None:
    found = match_reply(clues(recipients=("complaints+abcdefghijkmnpqr@example.com",)),
                        look(lambda token: REF if token == "abcdefghijkmnpqr" else None))
    assert found == ReplyMatch(REF, MatchedBy.TOKEN, True, "sent to the case's reply address")


def test_no_token_in_the_recipients_is_never_looked_up() -> None:
    assert match_reply(clues(recipients=("complaints@example.com",)), look(lambda token: REF)) is None


def test_the_complainant_naming_the_case_in_the_subject_is_trusted_saying_why() -> None:
    assert match_reply(clues(subject=f"Re: {REF}", sender=" ADA@example.com"), look()) == ReplyMatch(
        REF, MatchedBy.SUBJECT, True, f"subject names {REF}, sent by its complainant")


def test_a_stranger_naming_the_case_is_not_trusted_saying_why() -> None:
    assert match_reply(clues(subject=f"Re: {REF}", sender="mallory@example.net"), look()) == ReplyMatch(
        REF, MatchedBy.SUBJECT, False, f"subject names {REF}, but the sender mallory@example.net is not its "
                                       "complainant: opened as a new case linked to it")


def test_mail_without_a_sender_naming_the_case_is_not_trusted() -> None:
    found = match_reply(clues(subject=f"Re: {REF}", sender=None), look())
    assert found and found.trusted is False
    assert found.why == f"subject names {REF}, but the sender (none) is not its complainant: opened as a new case " \
                        "linked to it"


def test_a_reference_no_case_has_gives_way_to_the_next_one_in_the_subject() -> None:
    found = match_reply(clues(subject=f"Re: CMP-2026-ZZZZZZ and {REF}"), look())
    assert found and found.reference == REF and found.trusted


def test_the_clues_keep_the_sender_and_subject_given() -> None:
    read = ReplyClues.of({}, "ada@example.com", "Re: x", ())
    assert read == ReplyClues(sender="ada@example.com", subject="Re: x")
