"""What the ports' own errors tell their callers: a message already claimed says by which case, or that its SES
message id was logged by a redelivery meanwhile (the caller answers with that delivery's entry then); an
Idempotency-Key that filed a case names it and carries what it filed."""

from __future__ import annotations

from datetime import UTC, datetime

from amends.services.ports import FilingRequest, MailAlreadyClaimed, RequestAlreadyFiled


def test_a_message_id_claimed_by_a_case_names_that_case() -> None:
    claimed = MailAlreadyClaimed("CMP-2026-7K3F9Q")
    assert claimed.case_reference == "CMP-2026-7K3F9Q" and str(claimed) == "CMP-2026-7K3F9Q"
    assert not claimed.ses_message_id_seen


def test_a_delivery_logged_meanwhile_says_its_ses_message_id_was_seen() -> None:
    claimed = MailAlreadyClaimed(None, ses_message_id_seen=True)
    assert claimed.ses_message_id_seen is True and claimed.case_reference is None


def test_a_key_that_filed_a_case_says_which_and_carries_what_it_filed() -> None:
    filed = FilingRequest(key_hash="k" * 64, request_hash="r" * 64, reference="CMP-2026-7K3F9Q", access_token="t",
                          expires_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    already = RequestAlreadyFiled(filed)
    assert already.filed is filed and str(already) == "CMP-2026-7K3F9Q"
