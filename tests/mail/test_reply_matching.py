"""The reply-matching rules one by one (amends.domain.reply_matching), in their order of trust."""

from __future__ import annotations

from datetime import UTC, datetime

from amends.domain.reply_matching import Lookups, MatchedBy, ReplyClues, match_reply
from amends.domain.sent_mail import SentMail, references_in, reply_address, token_in

REF, OTHER = "CMP-2026-7K3F9Q", "CMP-2026-ABCDEF"
OURS = "0100018c-aaaa@eu-west-2.amazonses.com"
TOKEN = "abcdefghijkmnpqr"
SENT = {OURS: SentMail(message_id=OURS, case_reference=REF, kind="acknowledgement", to="ada@example.com",
                       sent_at=datetime(2026, 7, 1, tzinfo=UTC))}


def look(**contacts: tuple[str, ...]) -> Lookups:
    known = {REF: ("ada@example.com",), OTHER: ("bo@example.com",), **contacts}
    return Lookups(sent=lambda mid: SENT.get(mid), case_of_token=lambda t: OTHER if t == TOKEN else None,
                   contacts_of=known.get, reply_base="complaints@example.com", reference_prefix="CMP")


def clues(**fields: object) -> ReplyClues:
    return ReplyClues(**{"sender": "ada@example.com", "subject": "Re: my complaint", **fields})  # type: ignore[arg-type]


def test_in_reply_to_naming_our_message_matches_first() -> None:
    found = match_reply(clues(in_reply_to=(OURS,), recipients=(f"complaints+{TOKEN}@example.com",),
                              subject=f"Re: [{OTHER}]"), look())
    assert found and (found.reference, found.by, found.trusted) == (REF, MatchedBy.MESSAGE_ID, True)


def test_references_are_read_newest_first_when_in_reply_to_is_not_ours() -> None:
    found = match_reply(clues(in_reply_to=("theirs@mail.example",), references=("old@x", OURS, "theirs@mail.example")),
                        look())
    assert found and found.reference == REF and "References" in found.why


def test_a_message_id_we_never_sent_is_no_match() -> None:
    assert match_reply(clues(in_reply_to=("someone-else@example.com",)), look()) is None


def test_the_token_in_a_recipient_address_matches_next() -> None:
    found = match_reply(clues(recipients=("complaints@example.com", f"Complaints+{TOKEN}@Example.com")), look())
    assert found and (found.reference, found.by, found.trusted) == (OTHER, MatchedBy.TOKEN, True)


def test_a_token_on_another_mailbox_or_malformed_is_ignored() -> None:
    assert token_in((f"sales+{TOKEN}@example.com",), "complaints@example.com") is None
    assert token_in(("complaints+short@example.com",), "complaints@example.com") is None
    assert token_in((f"complaints+{TOKEN}@elsewhere.example",), "complaints@example.com") is None
    assert match_reply(clues(recipients=("complaints+zzzzzzzzzzzzzzzz@example.com",)), look()) is None


def test_a_subject_reference_from_the_complainant_writes_into_the_case() -> None:
    found = match_reply(clues(subject=f"Re: We have received your complaint [{REF.lower()}]", sender="ADA@example.com"),
                        look())
    assert found and (found.reference, found.by, found.trusted) == (REF, MatchedBy.SUBJECT, True)


def test_a_subject_reference_alone_from_a_stranger_never_writes_into_the_case() -> None:
    found = match_reply(clues(subject=f"About {REF}", sender="mallory@example.net"), look())
    assert found and found.reference == REF and not found.trusted
    assert "mallory@example.net is not its complainant" in found.why


def test_a_subject_reference_no_case_has_is_no_match() -> None:
    assert match_reply(clues(subject="Re: CMP-2026-ZZZZZZ"), look()) is None


def test_a_representative_counts_as_the_complainant() -> None:
    found = match_reply(clues(subject=f"Re: {REF}", sender="rep@law.example"),
                        look(**{REF: ("ada@example.com", "rep@law.example")}))
    assert found and found.trusted


def test_no_clue_is_a_new_complaint() -> None:
    assert match_reply(clues(subject="My bank charged me twice"), look()) is None


def test_reply_addresses_and_subject_references() -> None:
    assert reply_address("complaints@example.com", TOKEN) == f"complaints+{TOKEN}@example.com"
    assert token_in((reply_address("complaints@example.com", TOKEN),), "complaints@example.com") == TOKEN
    assert references_in(f"Re: Re: [{REF}] and {OTHER.lower()} and {REF}", "CMP") == (REF, OTHER)
    assert references_in("XCMP-2026-7K3F9Q", "CMP") == ()


def test_clues_come_from_the_headers_and_the_envelope() -> None:
    read = ReplyClues.of({"in-reply-to": f"<{OURS}>", "references": f"<a@x> <{OURS}>"}, "ada@example.com", "Re: x",
                         ("complaints@example.com",))
    assert read.in_reply_to == (OURS,) and read.references == ("a@x", OURS)
