"""Issue 9, point 7: on the local stack, moving the clock past a milestone makes the sweep escalate the case and the
notifier mail the staff the rule names, at the addresses the user pool has for them (moto's Cognito, filled from the
local identity provider's users). Runs after the other end-to-end files: the clock only moves forward."""

from __future__ import annotations

import pytest

from tests.conftest import sent_emails

from .lifecycle_http import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def on(stack) -> Stack:
    return Stack(stack)


def mails_about(reference: str, to: str) -> list[str]:
    return [str(m["Subject"]) for m in sent_emails(to) if reference in str(m["Subject"])]


def test_a_late_case_mails_its_owner_then_the_supervisors_once_per_level(on) -> None:
    c = on.file()
    owner = f"owner-{c.reference.lower()}"  # the pool learns this user (and its email) from its first token
    c.to_investigation(owner)
    priority = c.case()["priority"]
    assert mails_about(c.reference, f"{owner}@example.com") == []

    on.advance("P30D")  # past half of the 8 weeks the final response may take: the owner hears
    [at_risk] = mails_about(c.reference, f"{owner}@example.com")
    assert "final response" in at_risk and "(level 1)" in at_risk
    assert mails_about(c.reference, "local-supervisor@example.com") == []

    on.advance("P16D")  # past 80 %: the owner again, and the supervisors (the pool's supervisor group)
    assert len(mails_about(c.reference, f"{owner}@example.com")) == 2
    [supervisors] = mails_about(c.reference, "local-supervisor@example.com")
    assert "(level 2)" in supervisors

    on.advance("PT2H")  # another sweep: each rule fires once per case and level
    assert len(mails_about(c.reference, f"{owner}@example.com")) == 2
    assert len(mails_about(c.reference, "local-supervisor@example.com")) == 1
    assert c.case()["priority"] != priority  # level 2 also raised the priority
