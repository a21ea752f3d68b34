"""The committed documents match the code, and the code matches template.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from amends.domain.events import CATALOGUE, event_schema
from amends_local import docs
from amends_local.template import Template

ROOT = Path(__file__).resolve().parents[2]


def _routes() -> list:
    return Template(ROOT / "template.yaml").api_routes()


def test_committed_openapi_and_event_catalogue_are_up_to_date() -> None:
    assert docs.main(["--check"]) == 0, "run `make docs` and commit the result"


def test_every_route_in_the_template_is_documented_and_nothing_else() -> None:
    """CORS preflights (OPTIONS) are a browser's business, not part of the documented API."""
    routes = {(route.method.lower(), route.path) for route in _routes() if route.method != "OPTIONS"}
    spec = json.loads((ROOT / "infra" / "openapi.json").read_text())
    documented = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert documented == routes


def test_every_path_takes_a_preflight_without_the_authorizer_and_from_its_own_function() -> None:
    routes = _routes()
    preflights = {route.path: route for route in routes if route.method == "OPTIONS"}
    assert set(preflights) == {route.path for route in routes}
    assert all(route.authorizer is None for route in preflights.values())
    for route in routes:
        assert preflights[route.path].function_id == route.function_id, route


def test_public_routes_are_exactly_the_complainant_ones() -> None:
    public = {route.path for route in _routes() if route.authorizer is None and route.method != "OPTIONS"}
    assert public == {"/complaints", "/complaints/{reference}", "/complaints/{reference}/messages",
                      "/complaints/{reference}/decision-response", "/process"}
    assert all(route.authorizer == "StaffCognito" for route in _routes()
               if route.path.startswith("/staff") and route.method != "OPTIONS")


def test_every_error_answer_is_documented_as_problem_json() -> None:
    """Each route lists the statuses it can answer, ours and API Gateway's own, all with the one Problem schema."""
    spec = json.loads((ROOT / "infra" / "openapi.json").read_text())
    staff_paths = {route.path for route in _routes() if route.authorizer is not None}
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            statuses = {int(status) for status in operation["responses"]}
            errors = {status for status in statuses if status >= 400}
            assert {413, 429, 500, 502, 504} <= errors, (method, path)
            assert ({401, 403} <= errors) == (path in staff_paths), (method, path)
            assert (401 in errors) == (path in staff_paths), (method, path)
            if "requestBody" in operation:
                assert {400, 415, 422} <= errors, (method, path)
            for status in errors:
                assert operation["responses"][str(status)]["content"] == problem, (method, path, status)
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # Powertools' own 422 shape: never sent
    assert spec["paths"]["/staff/cases"]["get"]["responses"]["400"]  # an altered page cursor


def test_sample_bus_events_match_their_schemas() -> None:
    opened = json.loads((ROOT / "events" / "eventbridge_case_opened.json").read_text())
    jsonschema.validate(opened, event_schema("CaseOpened"))
    sqs = json.loads((ROOT / "events" / "sqs_notification_acknowledged.json").read_text())
    jsonschema.validate(json.loads(sqs["Records"][0]["body"]), event_schema("CaseStatusChanged"))


def test_a_schema_rejects_an_event_of_another_type() -> None:
    opened = json.loads((ROOT / "events" / "eventbridge_case_opened.json").read_text())
    try:
        jsonschema.validate(opened, event_schema("CaseAssigned"))
    except jsonschema.ValidationError:
        return
    raise AssertionError("a CaseOpened event passed the CaseAssigned schema")


def test_every_catalogued_event_has_a_committed_schema() -> None:
    files = {p.name for p in (ROOT / "infra" / "catalogue" / "events").glob("*.schema.json")}
    assert files == {f"{name}.schema.json" for name in CATALOGUE}


def test_the_state_machine_asks_only_for_steps_and_errors_the_code_has() -> None:
    import amends.domain.errors as errors
    from amends.services.lifecycle import STEPS

    definition = json.loads((ROOT / "infra" / "statemachines" / "case_lifecycle.asl.json").read_text())
    tasks = [s for s in definition["States"].values() if s["Type"] == "Task"]
    assert tasks
    for task in tasks:
        assert task["Parameters"]["Payload"]["step"] in STEPS
        for handler in task.get("Retry", []) + task.get("Catch", []):
            for name in handler["ErrorEquals"]:
                # Error names reach the state machine as exception class names; a typo would never match.
                assert name.startswith(("States.", "Lambda.")) or isinstance(getattr(errors, name, None), type), name
