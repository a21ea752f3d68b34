"""The lifecycle routes of the staff and complainant API handlers, fed the sample events: who may call which route
(every route x the five roles), what a refusal says, and the problem types of the rules about persons and time.

The role table is written out again here, not imported from amends.domain.permissions.ROLES: a change to the
table in the code must fail this test until the README's table (the same rows, read and compared here) and this
one are changed with it.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from .events import api, body_of, load

README = Path(__file__).parents[2] / "README.md"

STAFF = "StaffApiFunction"
PUBLIC = "PublicApiFunction"
ROLES = ("handler", "supervisor", "manager", "auditor", "admin")

# route (its sample event) -> the roles that may call it. Y: allowed, -: 403.
TABLE = {
    #                                       handler supervisor manager auditor admin
    "api_staff_assess.json":                ("Y",   "Y",       "Y",    "-",    "Y"),
    "api_staff_start_investigation.json":   ("Y",   "Y",       "Y",    "-",    "Y"),
    "api_staff_request_information.json":   ("Y",   "Y",       "Y",    "-",    "Y"),
    "api_staff_link.json":                  ("Y",   "Y",       "Y",    "-",    "Y"),
    "api_staff_propose_response.json":      ("Y",   "Y",       "Y",    "-",    "Y"),
    "api_staff_answer_proposal.json":       ("-",   "Y",       "Y",    "-",    "-"),
    "api_staff_communicate_decision.json":  ("Y",   "Y",       "Y",    "-",    "Y"),
    "api_staff_conclude_review.json":       ("-",   "Y",       "Y",    "-",    "-"),
    "api_staff_close.json":                 ("Y",   "Y",       "Y",    "-",    "Y"),
    "api_staff_reopen.json":                ("-",   "Y",       "Y",    "-",    "Y"),
}
# What each role may do to a closed case with no owner, and to a new (received or acknowledged) one.
ALLOWED_WHEN_CLOSED = {"handler": ["add_note"], "supervisor": ["add_note", "reopen"], "manager": ["add_note", "reopen"],
                       "auditor": [], "admin": ["add_note", "reopen"]}
ALLOWED_WHEN_NEW = {role: ([] if role == "auditor" else ["assess", "link", "assign", "add_note", "close"])
                    for role in ROLES}


def file(stack) -> dict:
    filed = stack.functions.invoke(PUBLIC, api("api_file_complaint.json",
                                               headers={"Idempotency-Key": str(uuid.uuid4())}))
    assert filed["statusCode"] == 201, filed
    return body_of(filed)


def staff(stack, name: str, reference: str, role: str = "supervisor", sub: str | None = None, body=...) -> dict:
    return stack.functions.invoke(STAFF, api(name, reference=reference, groups=role, sub=sub or f"user-{role}",
                                             body=body))


@pytest.fixture(scope="module")
def cases(stack) -> dict[str, str]:
    """A new case, and a closed one (withdrawn, never owned)."""
    new, closed = file(stack)["reference"], file(stack)["reference"]
    closing = staff(stack, "api_staff_close.json", closed, "manager")
    assert closing["statusCode"] == 200, closing
    return {"new": new, "closed": closed}


def readme_role_table() -> dict[str, tuple[str, ...]]:
    """The README's route x role table, keyed by the route's last path segments (``proposal/approval``)."""
    lines = README.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| route (`POST /staff/cases/{reference}/"))
    assert lines[start].split("|")[2:7] == [f" {role} " for role in ROLES]
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        route, *cells = (cell.strip() for cell in line.strip("|").split("|"))
        rows[re.fullmatch(r"`([^`]+)`.*", route)[1]] = tuple(cells)
    return rows


def test_the_readme_role_table_is_the_one_tested_here() -> None:
    routes = {load(name)["path"].removeprefix("/staff/cases/CMP-2026-7K3F9Q/"): cells for name, cells in TABLE.items()}
    assert readme_role_table() == routes



@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", TABLE)
def test_every_route_for_every_role(stack, cases, route, role) -> None:
    allowed = TABLE[route][ROLES.index(role)] == "Y"
    # A case in a state where the step is not possible, so an allowed role meets the state's refusal (409) and
    # changes nothing, and a refused role meets the role's (403), which comes first.
    reopening = route == "api_staff_reopen.json"
    reference = cases["new"] if reopening else cases["closed"]
    body = {"reference": cases["new"], "relation": "related"} if route == "api_staff_link.json" else ...
    response = staff(stack, route, reference, role, body=body)
    problem = body_of(response)
    if not allowed:
        assert response["statusCode"] == 403, problem
        assert problem["type"].endswith("/forbidden")
        who = [r for r, mark in zip(ROLES, TABLE[route], strict=True) if mark == "Y"]
        assert all(r in problem["detail"] for r in who), problem["detail"]  # it says who may
        if role == "auditor":
            assert "read-only" in problem["detail"]
        return
    assert response["statusCode"] == 409, problem
    assert problem["type"].endswith("/wrong-state")
    expected = ALLOWED_WHEN_NEW[role] if reopening else ALLOWED_WHEN_CLOSED[role]
    assert problem["status_now"] in (("received", "acknowledged") if reopening else ("closed",))
    assert problem["allowed_actions"] == expected


@pytest.mark.parametrize("role", ROLES)
def test_the_case_lists_what_the_caller_may_do_now(stack, cases, role) -> None:
    for state, expected in (("new", ALLOWED_WHEN_NEW), ("closed", ALLOWED_WHEN_CLOSED)):
        response = staff(stack, "api_staff_get_case.json", cases[state], role)
        assert response["statusCode"] == 200
        assert body_of(response)["allowed_actions"] == expected[role], (state, role)


def test_a_complainant_answer_without_a_decision_is_409_with_what_they_can_do(stack) -> None:
    filed = file(stack)
    response = stack.functions.invoke(PUBLIC, api("api_answer_decision.json", reference=filed["reference"],
                                                  headers={"X-Access-Token": filed["access_token"]}))
    assert response["statusCode"] == 409
    problem = body_of(response)
    assert problem["type"].endswith("/wrong-state") and problem["allowed_actions"] == ["add_message"]
    wrong_token = stack.functions.invoke(PUBLIC, api("api_answer_decision.json", reference=filed["reference"],
                                                     headers={"X-Access-Token": "not-the-token"}))
    assert wrong_token["statusCode"] == 404
    no_reason = stack.functions.invoke(PUBLIC, api("api_answer_decision.json", reference=filed["reference"],
                                                   body={"accept": False},
                                                   headers={"X-Access-Token": filed["access_token"]}))
    assert no_reason["statusCode"] == 422 and "reason" in body_of(no_reason)["detail"]


def test_reopen_is_offered_exactly_when_the_bare_request_is_accepted(stack) -> None:
    """allowed_actions equals what the API accepts: a closed case that never had an owner (it cannot be assigned
    once closed) is reopened by the bare request, the reopener becoming accountable; a handler is offered nothing
    but a note and is refused; after the window neither is offered nor accepted (test_lifecycle_paths)."""
    closed = file(stack)["reference"]
    assert staff(stack, "api_staff_close.json", closed, "manager")["statusCode"] == 200
    handler = body_of(staff(stack, "api_staff_get_case.json", closed, "handler"))["allowed_actions"]
    assert "reopen" not in handler
    assert staff(stack, "api_staff_reopen.json", closed, "handler", body={"reason": "x"})["statusCode"] == 403
    offered = body_of(staff(stack, "api_staff_get_case.json", closed, "manager", sub="man-r"))["allowed_actions"]
    assert "reopen" in offered
    reopened = staff(stack, "api_staff_reopen.json", closed, "manager", sub="man-r", body={"reason": "Receipt found"})
    assert reopened["statusCode"] == 200, body_of(reopened)
    state = body_of(reopened)
    assert state["status"] == "investigating" and state["owner"] == "man-r"
    assert "reopen" not in state["allowed_actions"]


def test_an_investigation_is_offered_on_a_case_nobody_took_and_the_bare_request_makes_the_starter_owner(stack):
    reference = file(stack)["reference"]
    assert staff(stack, "api_staff_assess.json", reference, "handler")["statusCode"] == 200
    case = body_of(staff(stack, "api_staff_get_case.json", reference, "handler", sub="han-s"))
    assert case["owner"] is None and "start_investigation" in case["allowed_actions"]
    started = staff(stack, "api_staff_start_investigation.json", reference, "handler", sub="han-s", body={})
    assert started["statusCode"] == 200, body_of(started)
    assert body_of(started)["status"] == "investigating" and body_of(started)["owner"] == "han-s"


def test_four_eyes_and_approval_are_their_own_problems(stack) -> None:
    reference = file(stack)["reference"]
    assert staff(stack, "api_staff_assess.json", reference, "handler")["statusCode"] == 200
    assert staff(stack, "api_staff_start_investigation.json", reference, "supervisor")["statusCode"] == 200
    big = {"outcome": "upheld", "reasons": "We charged twice.",
           "remedies": [{"kind": "monetary", "amount": "750.00", "currency": "GBP"}]}
    proposed = staff(stack, "api_staff_propose_response.json", reference, "supervisor", sub="sup-a", body=big)
    assert proposed["statusCode"] == 200, proposed
    assert "communicate_decision" not in body_of(proposed)["allowed_actions"]
    too_soon = staff(stack, "api_staff_communicate_decision.json", reference, "supervisor", sub="sup-a")
    assert too_soon["statusCode"] == 409 and body_of(too_soon)["type"].endswith("/approval-required")
    assert "750.00 GBP" in body_of(too_soon)["detail"]
    own = staff(stack, "api_staff_answer_proposal.json", reference, "supervisor", sub="sup-a")
    assert own["statusCode"] == 403 and body_of(own)["type"].endswith("/four-eyes-required")
    returned = staff(stack, "api_staff_answer_proposal.json", reference, "manager", sub="man-b",
                     body={"approve": False})
    assert returned["statusCode"] == 422 and "reason" in body_of(returned)["detail"]
    approved = staff(stack, "api_staff_answer_proposal.json", reference, "manager", sub="man-b")
    assert approved["statusCode"] == 200 and body_of(approved)["status"] == "response_approved"
