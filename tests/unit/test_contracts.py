"""The committed documents match the code, and the code matches template.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from amends.domain.events import CATALOGUE, event_schema
from amends_local import docs
from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]


def _template() -> dict:
    template, errors = decode(str(ROOT / "template.yaml"))
    assert not errors, errors
    return template


def test_committed_openapi_and_event_catalogue_are_up_to_date() -> None:
    assert docs.main(["--check"]) == 0, "run `make docs` and commit the result"


def test_every_route_in_the_template_is_documented_and_nothing_else() -> None:
    routes = set()
    for resource in _template()["Resources"].values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "Api":
                routes.add((event["Properties"]["Method"].lower(), event["Properties"]["Path"]))
    spec = json.loads((ROOT / "infra" / "openapi.json").read_text())
    documented = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert documented == routes


def test_public_routes_are_exactly_the_complainant_ones() -> None:
    public = set()
    for resource in _template()["Resources"].values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "Api" and event["Properties"].get("Auth", {}).get("Authorizer") == "NONE":
                public.add(event["Properties"]["Path"])
    assert all(not p.startswith("/staff") for p in public)
    assert "/complaints" in public


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
