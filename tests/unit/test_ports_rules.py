"""What the ports' own errors tell their callers: a message already claimed says by which case, or that its SES
message id was logged by a redelivery meanwhile (the caller answers with that delivery's entry then)."""

from __future__ import annotations

from amends.services.ports import MailAlreadyClaimed


def test_a_message_id_claimed_by_a_case_names_that_case() -> None:
    claimed = MailAlreadyClaimed("CMP-2026-7K3F9Q")
    assert claimed.case_reference == "CMP-2026-7K3F9Q" and str(claimed) == "CMP-2026-7K3F9Q"
    assert not claimed.ses_message_id_seen


def test_a_delivery_logged_meanwhile_says_its_ses_message_id_was_seen() -> None:
    claimed = MailAlreadyClaimed(None, ses_message_id_seen=True)
    assert claimed.ses_message_id_seen is True and claimed.case_reference is None
