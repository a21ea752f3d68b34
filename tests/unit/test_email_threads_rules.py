"""How our mail joins the complainant's conversation (amends.services.email_threads): which reply address it gets,
which subject (the one they wrote, as a reply, with the reference once, within 200 characters), and which threading
headers (the email that opened the case, then their latest reply, or the thread given)."""

from __future__ import annotations

from amends.domain.model import Actor, Channel, open_case
from amends.domain.outgoing_mail import OutgoingMail
from amends.services.email_threads import MAX_SUBJECT_CHARS, threaded
from amends.settings import Settings

from tests.mail.memory_mail import MemorySentMail

from .conftest import T0, make_submission

REF = "CMP-2026-7K3F9Q"
BOTH = Settings(table_name="t", event_bus_name="b", sender_address="noreply@example.com",
                reply_address="complaints@example.com")


def case(channel: Channel = Channel.EMAIL):
    return open_case(reference=REF, access_token_hash="x" * 64, submission=make_submission(), channel=channel,
                     actor=Actor(kind="complainant", id="complainant"), received_at=T0, received_at_local=T0).case


def letter(**fields: object) -> OutgoingMail:
    return OutgoingMail(**{"to": "ada@example.com", "subject": "Your complaint", "text": "t",  # type: ignore[arg-type]
                           "reply_to": "desk@example.com", **fields})


def store(origin: tuple[str, str] | None = None, latest: str | None = None) -> MemorySentMail:
    s = MemorySentMail()
    if origin:
        s.origins[REF] = origin
    if latest:
        s.latest[REF] = latest
    s.tokens[REF] = "abcdefghijkmnpqr"
    return s


def test_the_reply_address_is_the_reply_address_with_the_cases_token() -> None:
    out = threaded(letter(), case(), store=store(), settings=BOTH)
    assert out.reply_to == "complaints+abcdefghijkmnpqr@example.com"


def test_without_a_reply_address_the_sender_address_takes_the_token() -> None:
    only_sender = Settings(table_name="t", event_bus_name="b", sender_address="complaints@example.org")
    out = threaded(letter(), case(), store=store(), settings=only_sender)
    assert out.reply_to == "complaints+abcdefghijkmnpqr@example.org"


def test_without_any_address_the_mails_own_reply_to_is_kept() -> None:
    out = threaded(letter(), case(), store=store(), settings=Settings(table_name="t", event_bus_name="b"))
    assert out.reply_to == "desk@example.com"


def test_an_emailed_case_answers_the_email_that_opened_it_under_its_subject() -> None:
    out = threaded(letter(), case(), store=store(origin=("<CAF-1@mail.example>", "  Charged twice ")), settings=BOTH)
    assert (out.subject, out.in_reply_to, out.references) == (
        f"Re: Charged twice [{REF}]", "<CAF-1@mail.example>", ("<CAF-1@mail.example>",))


def test_a_subject_that_is_already_a_reply_is_not_prefixed_again() -> None:
    out = threaded(letter(), case(), store=store(origin=("CAF-1@mail.example", "RE: Charged twice")), settings=BOTH)
    assert out.subject == f"RE: Charged twice [{REF}]"


def test_a_blank_original_subject_leaves_ours() -> None:
    out = threaded(letter(), case(), store=store(origin=("CAF-1@mail.example", "   ")), settings=BOTH)
    assert out.subject == f"Your complaint [{REF}]" and out.in_reply_to == "<CAF-1@mail.example>"


def test_the_reference_is_not_repeated_when_the_subject_holds_it_in_any_case() -> None:
    out = threaded(letter(subject=f"About {REF.lower()}"), case(), store=store(), settings=BOTH)
    assert out.subject == f"About {REF.lower()}"


def test_a_long_subject_is_cut_so_that_the_reference_still_fits_in_200_characters() -> None:
    out = threaded(letter(subject="x" * 300), case(), store=store(), settings=BOTH)
    assert out.subject == "x" * (200 - len(REF) - 3) + f" [{REF}]" and len(out.subject) == MAX_SUBJECT_CHARS == 200


def test_a_web_case_has_no_origin_but_threads_under_the_complainants_latest_reply() -> None:
    s = store(origin=("CAF-1@mail.example", "Charged twice"), latest="reply-2@mail.example")
    out = threaded(letter(), case(Channel.WEB), store=s, settings=BOTH)
    assert (out.subject, out.in_reply_to, out.references) == (
        f"Your complaint [{REF}]", "<reply-2@mail.example>", ("<reply-2@mail.example>",))


def test_the_latest_reply_comes_after_the_origin_and_is_not_repeated() -> None:
    s = store(origin=("CAF-1@mail.example", "Charged twice"), latest="CAF-1@mail.example")
    out = threaded(letter(), case(), store=s, settings=BOTH)
    assert out.references == ("<CAF-1@mail.example>",)


def test_a_given_thread_is_used_oldest_first_with_the_newest_answered() -> None:
    s = store(origin=("CAF-1@mail.example", "Charged twice"), latest="reply-2@mail.example")
    out = threaded(letter(), case(), store=s, settings=BOTH, thread=("<a@x>", "b@x"))
    assert (out.in_reply_to, out.references) == ("<b@x>", ("<a@x>", "<b@x>"))
    assert out.subject == f"Re: Charged twice [{REF}]"


def test_without_a_conversation_the_mails_own_threading_headers_are_kept() -> None:
    out = threaded(letter(in_reply_to="<mine@x>", references=("<mine@x>",)), case(Channel.WEB), store=store(),
                   settings=BOTH)
    assert (out.in_reply_to, out.references) == ("<mine@x>", ("<mine@x>",))


def test_each_message_id_is_bracketed_once_and_otherwise_kept_as_it_is() -> None:
    out = threaded(letter(), case(), store=store(), settings=BOTH, thread=("X-1@MX", "<X-2@mail.example>"))
    assert (out.in_reply_to, out.references) == ("<X-2@mail.example>", ("<X-1@MX>", "<X-2@mail.example>"))
