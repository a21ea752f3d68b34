"""Delivery status notifications (amends.domain.bounces) field by field: which failures are permanent, the summary
staff read, how a recipient field is written (with or without its address type, in brackets, folded, only an
Original-Recipient), and where the original Message-ID is found (the returned message or its headers)."""

from __future__ import annotations

import pytest
from amends.domain.bounces import Bounce, BouncedRecipient, read_bounce

OURS = "0100018c-aaaa@eu-west-2.amazonses.com"
ADA_FAILED = ("Final-Recipient: rfc822; ada@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
              "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n")


def report(*blocks: str, original: str | None = f"text/rfc822-headers\r\n\r\nMessage-ID: <{OURS}>\r\n",
           content_type: str = "multipart/report; report-type=delivery-status") -> bytes:
    status = "\r\n".join(["Reporting-MTA: dns; mx.example.net\r\n", *blocks])
    parts = ["--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n",
             f"--b\r\nContent-Type: message/delivery-status\r\n\r\n{status}"]
    if original is not None:
        parts.append(f"--b\r\nContent-Type: {original}")
    return (f'From: MAILER-DAEMON@mx.example.net\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}; boundary="b"'
            "\r\n\r\n" + "".join(parts) + "--b--\r\n").encode()


@pytest.mark.parametrize(("action", "status", "permanent"), [
    ("failed", "5.1.1", True), ("failed", "5.7.1", True), ("failed", "4.4.7", False), ("delayed", "5.1.1", False),
    ("delivered", "2.0.0", False), ("failed", "", False),
])
def test_only_a_failure_with_a_5_status_is_permanent(action: str, status: str, permanent: bool) -> None:
    assert BouncedRecipient("ada@example.com", action, status).permanent is permanent


def test_only_permanent_failures_are_undeliverable_in_their_order() -> None:
    bounce = Bounce("x", (BouncedRecipient("a@x", "failed", "5.1.1"), BouncedRecipient("b@x", "delayed", "4.4.7"),
                          BouncedRecipient("c@x", "failed", "5.2.2")))
    assert bounce.undeliverable == ("a@x", "c@x")


def test_the_summary_names_each_recipient_its_action_status_and_diagnostic() -> None:
    bounce = Bounce("x", (BouncedRecipient("a@x", "failed", "5.1.1", "smtp; 550 no such user"),
                          BouncedRecipient("b@x", "delayed", "4.4.7")))
    assert bounce.summary() == "a@x: failed 5.1.1 (smtp; 550 no such user); b@x: delayed 4.4.7"
    assert Bounce("x", ()).summary() == "no recipient fields"


def test_a_report_is_read_recipient_by_recipient() -> None:
    bounce = read_bounce(report(ADA_FAILED, "\r\nFinal-Recipient: rfc822;<Bo@Example.com>\r\nAction: Delayed \r\n"
                                            "Status: 4.4.7 (timeout)\r\n"))
    assert bounce == Bounce(OURS, (
        BouncedRecipient("ada@example.com", "failed", "5.1.1", "smtp; 550 5.1.1 user unknown"),
        BouncedRecipient("bo@example.com", "delayed", "4.4.7", None)))


def test_a_recipient_field_without_an_address_type_is_the_address() -> None:
    bounce = read_bounce(report("Final-Recipient: <ada@example.com>\r\nAction: failed\r\nStatus: 5.1.1\r\n"))
    assert bounce and bounce.recipients == (BouncedRecipient("ada@example.com", "failed", "5.1.1"),)


def test_the_original_recipient_counts_when_there_is_no_final_one() -> None:
    bounce = read_bounce(report("Original-Recipient: rfc822; ada@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"))
    assert bounce and bounce.undeliverable == ("ada@example.com",)


def test_a_folded_diagnostic_is_one_line_and_a_block_without_recipient_is_skipped() -> None:
    bounce = read_bounce(report("Action: failed\r\nStatus: 5.1.1\r\n",
                                "\r\nFinal-Recipient: rfc822; ada@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                                "Diagnostic-Code: smtp; 550\r\n   mailbox   unavailable\r\n"))
    assert bounce and bounce.recipients == (
        BouncedRecipient("ada@example.com", "failed", "5.1.1", "smtp; 550 mailbox unavailable"),)


def test_a_recipient_without_action_or_status_has_them_empty() -> None:
    bounce = read_bounce(report("Final-Recipient: rfc822; ada@example.com\r\n"))
    assert bounce and bounce.recipients == (BouncedRecipient("ada@example.com", "", "", None),)
    assert bounce.undeliverable == () and bounce.summary() == "ada@example.com:  "


def test_the_original_message_id_is_read_from_the_returned_message() -> None:
    original = f"message/rfc822\r\n\r\nFrom: complaints@example.com\r\nMessage-ID: <{OURS}>\r\n\r\nHello\r\n"
    bounce = read_bounce(report(ADA_FAILED, original=original))
    assert bounce and bounce.original_message_id == OURS


def test_the_first_part_holding_a_message_id_gives_it() -> None:
    raw = report(ADA_FAILED, original="message/rfc822\r\n\r\nSubject: no id\r\n\r\nx\r\n"
                                      f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{OURS}>\r\n")
    bounce = read_bounce(raw)
    assert bounce and bounce.original_message_id == OURS


@pytest.mark.parametrize(("written", "read"), [
    (f"<{OURS}> <other@x>", OURS), (OURS, OURS), ("<no-at-sign>", "no-at-sign"), ("  plain-token  ", "plain-token"),
    ("(c) <a@x>", "a@x"), ("  <a@x>  junk", "a@x"), ("X-1", "X-1"), ("<X-1", "X-1"), ("X-1>", "X-1"),
])
def test_the_original_message_id_however_it_is_written(written: str, read: str) -> None:
    bounce = read_bounce(report(ADA_FAILED, original=f"text/rfc822-headers\r\n\r\nMessage-ID: {written}\r\n"))
    assert bounce and bounce.original_message_id == read


def test_a_report_without_the_original_has_no_message_id_but_its_recipients() -> None:
    bounce = read_bounce(report(ADA_FAILED, original=None))
    assert bounce and bounce.original_message_id is None and bounce.undeliverable == ("ada@example.com",)
    headers_only = read_bounce(report(ADA_FAILED, original="text/rfc822-headers\r\n\r\nSubject: x\r\n"))
    assert headers_only and headers_only.original_message_id is None


def test_mail_that_is_not_a_delivery_report_is_no_bounce() -> None:
    assert read_bounce(report(ADA_FAILED, content_type="multipart/mixed")) is None
    assert read_bounce(b"From: ada@example.com\r\nSubject: hi\r\n\r\nHello\r\n") is None
    no_status = report(ADA_FAILED).replace(b"message/delivery-status", b"text/plain")
    assert read_bounce(no_status) is None


def test_a_broken_original_part_does_not_hide_a_later_one() -> None:
    broken = "text/rfc822-headers; charset=x-unknown\r\n\r\nMessage-ID: <bad@x>\r\n"
    later = f"--b\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <{OURS}>\r\n\r\nx\r\n"
    assert read_bounce(report(ADA_FAILED, original=broken)).original_message_id is None
    assert read_bounce(report(ADA_FAILED, original=broken + later)).original_message_id == OURS


def test_only_the_first_semicolon_ends_the_address_type_and_the_address_is_kept_whole() -> None:
    bounce = read_bounce(report('Final-Recipient: rfc822; "ada;x"@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n',
                                "\r\nFinal-Recipient: rfc822; <Xavier@Example.com>\r\nAction: failed\r\n"
                                "Status: 5.1.1\r\n"))
    assert bounce and bounce.undeliverable == ('"ada;x"@example.com', "xavier@example.com")


@pytest.mark.parametrize("kind", ["message/rfc822", "text/rfc822-headers"])
def test_the_returned_headers_are_read_as_the_returned_message_is_encoded_words_decoded(kind: str) -> None:
    bounce = read_bounce(report(ADA_FAILED, original=f"{kind}\r\n\r\nMessage-ID: =?utf-8?q?X-1?=\r\n\r\nx\r\n"))
    assert bounce and bounce.original_message_id == "X-1"
