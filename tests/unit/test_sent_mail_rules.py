"""What we keep of the mail we send (amends.domain.sent_mail): the table keys (the same key for the same Message-ID or
address however it is written, and any text keyable), the Message-IDs read from threading headers, the reply token
(its alphabet and length) and the reply address it makes, finding it again among the recipients, and the case
references a subject holds."""

from __future__ import annotations

import hashlib

import pytest
from amends.domain.inbound_mail import InboundMail
from amends.domain.sent_mail import (
    TOKEN_ALPHABET,
    TOKEN_LENGTH,
    address_key,
    letter_key,
    message_id_key,
    message_ids,
    new_reply_token,
    references_in,
    reply_address,
    token_in,
)

TOKEN = "abcdefghijkmnpqr"
BASE = "complaints@example.com"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_message_id_has_one_key_with_or_without_brackets_spaces_or_capitals() -> None:
    assert message_id_key(" <CAF-1@Mail.Example.com> ") == message_id_key("caf-1@mail.example.com") == \
        sha("caf-1@mail.example.com")
    assert message_id_key("<X-1@MX>") == sha("x-1@mx")


def test_the_message_id_key_is_the_inbound_mails_hash() -> None:
    mail = InboundMail(message_id="CAF-1@Mail.Example.com", sender_address=None, sender_name=None, subject="",
                       text="", date=None)
    assert mail.message_id_hash == message_id_key("<CAF-1@Mail.Example.com>")


def test_an_address_has_one_key_whatever_its_case_and_spaces() -> None:
    assert address_key("  Ada@Example.COM ") == sha("ada@example.com")


def test_a_letter_key_is_the_digest_of_the_letter_as_given() -> None:
    assert letter_key("evt-1/decision/ada@example.com") == sha("evt-1/decision/ada@example.com")
    assert letter_key("A") != letter_key("a")


def test_text_that_is_not_valid_unicode_still_has_a_key() -> None:
    lone = "id-\ud800@example.com"
    assert message_id_key(lone) == sha("id-?@example.com")
    assert address_key(lone) == sha("id-?@example.com")
    assert letter_key(lone) == sha("id-?@example.com")
    assert InboundMail(message_id=lone, sender_address=None, sender_name=None, subject="", text="",
                       date=None).message_id_hash == sha("id-?@example.com")


@pytest.mark.parametrize(("header", "ids"), [
    (None, ()), ("", ()),
    ("<a@x> <b@y>", ("a@x", "b@y")),
    ("<a@x>\r\n <b@y> comment <c@z>", ("a@x", "b@y", "c@z")),
    ("a@x b@y nothing", ("a@x", "b@y")),  # no brackets (a careless client): the words with an @
    ("no ids here", ()),
])
def test_message_ids_in_a_threading_header_in_order(header: str | None, ids: tuple[str, ...]) -> None:
    assert message_ids(header) == ids


def test_a_reply_token_is_sixteen_characters_of_its_alphabet() -> None:
    tokens = {new_reply_token() for _ in range(50)}
    assert len(tokens) == 50  # drawn at random
    assert all(len(t) == TOKEN_LENGTH == 16 and set(t) <= set(TOKEN_ALPHABET) for t in tokens)
    assert not set("01lo") & set(TOKEN_ALPHABET) and TOKEN_ALPHABET == TOKEN_ALPHABET.lower()


def test_the_reply_address_replaces_any_subaddress_of_the_base() -> None:
    assert reply_address(BASE, TOKEN) == f"complaints+{TOKEN}@example.com"
    assert reply_address("complaints+inbox@example.com", TOKEN) == f"complaints+{TOKEN}@example.com"
    assert reply_address("a@b@example.com", TOKEN) == f"a@b+{TOKEN}@example.com"


def test_no_base_address_means_no_token() -> None:
    assert token_in((f"complaints+{TOKEN}@example.com",), None) is None
    assert token_in((f"complaints+{TOKEN}@example.com",), "") is None


def test_the_token_is_found_in_any_recipient_written_in_any_case_or_brackets() -> None:
    recipients = ("someone@example.com", f" <Complaints+{TOKEN.upper()}@EXAMPLE.com> ")
    assert token_in(recipients, "Complaints+inbox@Example.com") == TOKEN


def test_a_recipient_without_a_token_or_with_a_bad_one_has_none() -> None:
    assert token_in((BASE,), BASE) is None
    assert token_in(("complaints+@example.com",), BASE) is None
    assert token_in((f"complaints+{TOKEN}x@example.com",), BASE) is None  # seventeen characters
    assert token_in((f"complaints+{TOKEN[:-1]}0@example.com",), BASE) is None  # 0 is not in the alphabet
    assert token_in((f"complaints+{TOKEN}+x@example.com",), BASE) is None


def test_subject_references_are_found_in_any_case_once_each_in_order() -> None:
    subject = "Re: cmp-2026-abcdef, CMP-2026-7K3F9Q and again [CMP-2026-ABCDEF]"
    assert references_in(subject, "CMP") == ("CMP-2026-ABCDEF", "CMP-2026-7K3F9Q")


@pytest.mark.parametrize("subject", ["CMP-2026-7K3F9QX", "CMP-26-7K3F9Q", "CMP-2026-7K3F9", "CMP-2026-7K3F9I",
                                     "", "ACMP-2026-7K3F9Q"])
def test_what_is_not_a_whole_reference_is_none(subject: str) -> None:
    assert references_in(subject, "CMP") == ()


def test_the_reference_prefix_is_matched_literally() -> None:
    assert references_in("about C.P-2026-7K3F9Q", "C.P") == ("C.P-2026-7K3F9Q",)
    assert references_in("about CXP-2026-7K3F9Q", "C.P") == ()


@pytest.mark.parametrize("base", [BASE, "Xavier@Example.com", '"a@b"@example.com', "complaints+inbox@example.com"])
def test_the_reply_address_of_any_base_gives_its_token_back(base: str) -> None:
    assert token_in((reply_address(base, TOKEN),), base) == TOKEN
    assert token_in((f"<{reply_address(base, TOKEN)}>",), base) == TOKEN
