"""The time frames the published process quotes come from the policy for the organisation's jurisdiction: an early
exit milestone is quoted without "of receipt", and an extension after a holding reply is quoted with its own limit."""

from __future__ import annotations

from amends.services import process
from amends.settings import Settings


def time_frames(jurisdiction: str) -> dict[str, str]:
    return process.process_information(Settings(table_name="t", event_bus_name="b",
                                                jurisdiction=jurisdiction))["time_frames"]


def test_a_gb_organisation_quotes_the_fca_time_frames_and_the_summary_resolution_exit() -> None:
    assert time_frames("GB") == {
        "acknowledgement": "A prompt written acknowledgement: within 5 business days of receipt.",
        "summary_resolution": "Resolved by the close of the third business day after receipt (summary resolution): "
                              "within 3 business days.",
        "final_response": "A final response, with the right to refer to the Financial Ombudsman Service: within 56 "
                          "days of receipt.",
        "calendar": "Monday to Friday, 09:00 to 17:30 UK time, closed on the bank holidays of England and Wales.",
        "paused": "The time we take is paused while we wait for information we asked you for.",
    }


def test_a_us_organisation_quotes_the_extension_a_holding_reply_gives() -> None:
    frames = time_frames("US")
    assert frames["holding_reply"] == "A response saying the complaint is in progress: within 15 days of receipt."
    assert frames["final_response"] == ("A final response: within 15 days of receipt (60 days after a holding reply "
                                        "saying why).")
    assert frames["calendar"] == "Monday to Friday, 09:00 to 17:00 US Eastern time, closed on US federal holidays."
