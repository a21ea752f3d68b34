"""The record of sent mail on DynamoDB Local (adapters/sent_mail.py): sent messages by Message-ID, undeliverable
marks, the automatic-mail counter's conditional update, and reply tokens made once per case."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from amends.adapters.sent_mail import DynamoSentMail
from amends.domain.sent_mail import SentMail

T0 = datetime(2026, 7, 1, 9, tzinfo=UTC)


def test_sent_messages_are_found_by_their_message_id_in_any_case(case_table) -> None:
    client, table = case_table
    store = DynamoSentMail(table, client)
    store.record_sent(SentMail(message_id="0100-ABC@eu-west-2.amazonses.com", case_reference="CMP-2026-7K3F9Q",
                               kind="acknowledgement", to="ada@example.com", sent_at=T0))
    found = store.find_sent("<0100-abc@EU-WEST-2.amazonses.com>")
    assert found and found.case_reference == "CMP-2026-7K3F9Q" and found.sent_at == T0
    assert store.find_sent("other@example.com") is None


def test_an_address_marked_undeliverable_says_why(case_table) -> None:
    client, table = case_table
    store = DynamoSentMail(table, client)
    assert store.undeliverable("gone@example.com") is None
    store.mark_undeliverable("Gone@Example.com", "bounced (5.1.1)", T0)
    assert store.undeliverable("gone@example.com") == "bounced (5.1.1) (since 2026-07-01T09:00:00Z)"


def test_the_automatic_mail_counter_stops_at_its_limit_even_when_raced(case_table) -> None:
    client, table = case_table
    store = DynamoSentMail(table, client)
    window = T0.replace(minute=0)
    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(lambda _: store.take_automatic_slot("ada@example.com", window, 3, window + timedelta(hours=2)),
                              range(8)))
    assert taken.count(True) == 3
    assert store.take_automatic_slot("ada@example.com", window + timedelta(hours=1), 3, window + timedelta(hours=3))


def test_a_case_gets_one_reply_token_ever_and_the_token_finds_the_case(case_table) -> None:
    client, table = case_table
    store = DynamoSentMail(table, client)
    with ThreadPoolExecutor(4) as pool:
        tokens = set(pool.map(lambda _: store.reply_token("CMP-2026-ABCDEF"), range(4)))
    [token] = tokens
    assert store.case_of_token(token) == "CMP-2026-ABCDEF" and store.case_of_token(token.upper()) == "CMP-2026-ABCDEF"
    assert store.reply_token("CMP-2026-ABCDEG") != token and store.origin_of("CMP-2026-ABCDEF") is None
