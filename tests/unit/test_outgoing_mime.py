"""What the SES mailer puts on the wire: threading headers, the automatic-mail marker, both bodies."""

from __future__ import annotations

from email import message_from_bytes, policy

from amends.adapters.ses import to_mime
from amends.domain.outgoing_mail import OutgoingMail


def parsed(mail: OutgoingMail):  # noqa: ANN201
    return message_from_bytes(to_mime(mail, "Amends <complaints@example.com>").as_bytes(), policy=policy.default)


def test_a_reply_threads_into_the_conversation_and_says_it_is_automatic() -> None:
    message = parsed(OutgoingMail(to="ada@example.com", subject="Re: Charged twice [AMD-1]", text="Thank you.",
                                  reply_to="case+tok@example.com", in_reply_to="<a@mail.example>",
                                  references=("<root@mail.example>", "<a@mail.example>")))
    assert message["From"] == "Amends <complaints@example.com>" and message["To"] == "ada@example.com"
    assert message["In-Reply-To"] == "<a@mail.example>"
    assert message["References"] == "<root@mail.example> <a@mail.example>"
    assert message["Reply-To"] == "case+tok@example.com"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message.get_body(("plain",)).get_content() == "Thank you.\n"
    assert message.get_body(("html",)) is None


def test_a_persons_reply_is_not_marked_automatic_and_carries_its_html_alternative() -> None:
    message = parsed(OutgoingMail(to="ada@example.com", subject="Your complaint", text="Hello", html="<p>Hello</p>",
                                  automatic=False, headers={"X-Amends-Case": "AMD-1"}))
    assert message["Auto-Submitted"] is None and message["In-Reply-To"] is None and message["References"] is None
    assert message["X-Amends-Case"] == "AMD-1"
    assert message.get_body(("html",)).get_content() == "<p>Hello</p>\n"
    assert message.get_body(("plain",)).get_content() == "Hello\n"
