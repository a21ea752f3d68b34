"""The complainant's status view through the public API handler: what they submitted, none of the staff's work."""

from __future__ import annotations

import json
import uuid

from amends import wiring
from amends.domain.model import Actor
from amends.services.common import with_optimistic_retry

from .events import api, body_of, load

SUPERVISOR = Actor(kind="staff", id="sup-leak-check", roles=("supervisor",))


def test_the_complainant_sees_what_they_submitted_and_no_note_or_owner(stack) -> None:
    def invoke(event: dict) -> dict:
        return stack.functions.invoke("PublicApiFunction", event)

    submitted = json.loads(load("api_file_complaint.json")["body"])
    filed = body_of(invoke(api("api_file_complaint.json", headers={"Idempotency-Key": str(uuid.uuid4())})))
    ref = filed["reference"]
    repo = wiring.case_repository()

    def change(make) -> None:  # the stack's own lifecycle may acknowledge the case meanwhile: reload and try again
        def attempt() -> None:
            case = repo.get(ref)
            repo.record(make(case))

        with_optimistic_retry(attempt, attempts=10)

    change(lambda case: case.assign("owner-secret-42", SUPERVISOR, case.updated_at, "reason-secret-42"))
    change(lambda case: case.add_note("note-secret-42: staff only", SUPERVISOR, case.updated_at))

    response = invoke(api("api_complaint_status.json", reference=ref, headers={"X-Access-Token": filed["access_token"]}))
    assert response["statusCode"] == 200
    view = body_of(response)
    for field in ("description", "remedy_sought", "product_or_service", "account_reference", "problem_date",
                  "attachments", "preferred_contact_channel", "preferred_language"):
        assert view[field] == submitted[field], field
    for secret in ("owner-secret-42", "reason-secret-42", "note-secret-42", SUPERVISOR.id, '"owner"'):
        assert secret not in response["body"]
    assert [t["what"] for t in view["timeline"]][0] == "Complaint received"
    assert not {"Add note", "Assign"} & {t["what"] for t in view["timeline"]}
    assert "Large print" not in response["body"] and "ada@example.com" not in response["body"]
