"""The staff API handler fed the sample events (claims as the Cognito authorizer passes them)."""

from __future__ import annotations

import uuid

import pytest

from .events import api, body_of

STAFF = "StaffApiFunction"
PUBLIC = "PublicApiFunction"


@pytest.fixture
def staff(stack):
    return lambda event: stack.functions.invoke(STAFF, event)


@pytest.fixture
def reference(stack) -> str:
    filed = stack.functions.invoke(PUBLIC, api("api_file_complaint.json", headers={"Idempotency-Key": str(uuid.uuid4())}))
    return body_of(filed)["reference"]


def test_list_filters_and_pages(stack, staff, reference) -> None:
    another = stack.functions.invoke(PUBLIC, api("api_file_complaint.json", headers={"Idempotency-Key": str(uuid.uuid4())}))
    assert another["statusCode"] == 201  # two cases at least, so a page of one has a next page, run alone too
    response = staff(api("api_staff_list_cases.json", query={"limit": "100"}))
    assert response["statusCode"] == 200
    listed = body_of(response)
    assert reference in {c["reference"] for c in listed["items"]}
    page = body_of(staff(api("api_staff_list_cases.json", query={"limit": "1"})))
    assert len(page["items"]) == 1 and page["next_cursor"]
    nxt = body_of(staff(api("api_staff_list_cases.json", query={"limit": "1", "cursor": page["next_cursor"]})))
    assert nxt["items"][0]["reference"] != page["items"][0]["reference"]


@pytest.mark.parametrize(("query", "field"), [({"status": "lost"}, "status"), ({"limit": "1000"}, "limit"),
                                              ({"priority": "whenever"}, "priority")])
def test_bad_filters_are_explained(staff, query, field) -> None:
    response = staff(api("api_staff_list_cases.json", query=query))
    assert response["statusCode"] == 422
    assert field in body_of(response)["detail"]


def test_bad_cursor_is_400(staff) -> None:
    response = staff(api("api_staff_list_cases.json", query={"cursor": "not-a-cursor"}))
    assert response["statusCode"] == 400
    assert body_of(response)["type"].endswith("/invalid-cursor")


def test_assign_note_and_read_the_full_timeline(staff, reference) -> None:
    assigned = staff(api("api_staff_assign_owner.json", reference=reference))
    assert assigned["statusCode"] == 200, assigned
    assert body_of(assigned)["owner"] == "3b9f2d1e-8c7a-4f6e-a5d4-c3b2a1f0e9d8"
    noted = staff(api("api_staff_add_note.json", reference=reference, groups="handler"))
    assert noted["statusCode"] == 201
    detail = body_of(staff(api("api_staff_get_case.json", reference=reference, groups="auditor")))
    # The stack's own lifecycle acknowledges the case in the background, before or after these steps.
    actions = [e["action"] for e in detail["timeline"] if e["action"] != "acknowledge"]
    assert actions == ["open", "assign", "add_note"]
    assignment = next(e for e in detail["timeline"] if e["action"] == "assign")
    assert assignment["actor"]["id"] == "7d4e1c2a-5b6f-4a8e-9c3d-2f1e0a9b8c7d"
    assert assignment["reason"] == "Payments specialist"
    assert assignment["after"] == {"owner": "3b9f2d1e-8c7a-4f6e-a5d4-c3b2a1f0e9d8"}
    assert "access_token_hash" not in str(detail)
    mine = body_of(staff(api("api_staff_list_cases.json",
                             query={"owner": "3b9f2d1e-8c7a-4f6e-a5d4-c3b2a1f0e9d8", "limit": "100"})))
    assert reference in {c["reference"] for c in mine["items"]}


def test_roles_are_enforced(staff, reference) -> None:
    handler_assigns_other = staff(api("api_staff_assign_owner.json", reference=reference, groups="handler"))
    assert handler_assigns_other["statusCode"] == 403
    assert "only to themselves" in body_of(handler_assigns_other)["detail"]
    handler_takes_it = staff(api("api_staff_assign_owner.json", reference=reference, groups="handler",
                                 sub="3b9f2d1e-8c7a-4f6e-a5d4-c3b2a1f0e9d8"))
    assert handler_takes_it["statusCode"] == 200
    auditor_assigns = staff(api("api_staff_assign_owner.json", reference=reference, groups="auditor"))
    assert auditor_assigns["statusCode"] == 403 and "read-only" in body_of(auditor_assigns)["detail"]
    auditor_notes = staff(api("api_staff_add_note.json", reference=reference, groups="auditor"))
    assert auditor_notes["statusCode"] == 403
    nobody = staff(api("api_staff_list_cases.json", groups="customers"))
    assert nobody["statusCode"] == 403 and "not in any staff group" in body_of(nobody)["detail"]


def test_unknown_case_and_wrong_state(staff, reference, stack) -> None:
    assert staff(api("api_staff_get_case.json", reference="CMP-2026-ZZZZZZ"))["statusCode"] == 404
    from amends import wiring
    from amends.domain import steps
    from amends.domain.handling import ClosureReason
    from amends.domain.model import Actor
    from amends.settings import get_settings

    repo = wiring.case_repository()
    case = repo.get(reference)
    repo.record(steps.close(case, ClosureReason.WITHDRAWN, Actor(kind="staff", id="m", roles=("manager",)),
                            case.updated_at, get_settings().handling_policy()))
    refused = staff(api("api_staff_assign_owner.json", reference=reference))
    assert refused["statusCode"] == 409 and body_of(refused)["status_now"] == "closed"


def test_missing_claims_are_401_not_500(staff) -> None:
    event = api("api_staff_list_cases.json")
    del event["requestContext"]["authorizer"]
    response = staff(event)
    assert response["statusCode"] == 401


def test_the_sla_of_a_case_says_each_milestone_and_why(staff, reference) -> None:
    response = staff(api("api_staff_get_sla.json", reference=reference, groups="auditor"))
    assert response["statusCode"] == 200, response
    sla = body_of(response)
    assert sla["reference"] == reference and sla["policy"] == "fca-disp" and sla["calendar"] == "england-and-wales"
    milestones = {m["name"]: m for m in sla["milestones"]}
    assert set(milestones) == {"acknowledgement", "summary_resolution", "final_response"}
    final = milestones["final_response"]
    assert final["state"] == "on_time" and final["limit"] == "56 days" and final["met_at"] is None
    assert final["explanation"].startswith("On time: due the end of ") and "fca-disp v1" in final["explanation"]
    assert sla["paused"] == [] and sla["escalations_fired"] == []
    detail = body_of(staff(api("api_staff_get_case.json", reference=reference)))
    assert detail["response_due_by"] == final["due_at"]  # what the complainant is quoted is the milestone's date


def test_the_sla_of_an_unknown_case_is_404(staff) -> None:
    response = staff(api("api_staff_get_sla.json", reference="CMP-2026-ZZZZZZ"))
    assert response["statusCode"] == 404 and body_of(response)["type"].endswith("/case-not-found")
