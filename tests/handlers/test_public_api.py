"""The complainant API handler fed the sample API Gateway events, against the local emulators."""

from __future__ import annotations

import os
import re
import uuid

import pytest
from amends import wiring
from amends.domain import steps
from amends.domain.errors import ConcurrentUpdate
from amends.domain.handling import ClosureReason
from amends.domain.model import Actor
from amends.settings import get_settings

from .events import api, body_of, load

PUBLIC = "PublicApiFunction"


@pytest.fixture
def invoke(stack):
    return lambda event: stack.functions.invoke(PUBLIC, event)


def file_one(invoke, **changes):
    event = api("api_file_complaint.json", headers={"Idempotency-Key": str(uuid.uuid4())})
    if changes:
        import json
        body = json.loads(event["body"])
        body.update(changes)
        event["body"] = json.dumps(body)
    response = invoke(event)
    assert response["statusCode"] == 201, response
    return body_of(response)


def count_cases(dynamodb, table) -> int:
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table, Select="COUNT", FilterExpression="kind = :k", ExpressionAttributeValues={":k": {"S": "case"}},
        ConsistentRead=True)
    return sum(page["Count"] for page in pages)


def header(response, name: str) -> str | None:
    """Powertools answers REST events with multiValueHeaders; API Gateway merges both maps."""
    single = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    multi = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
    return single.get(name.lower()) or (multi.get(name.lower()) or [None])[0]


def test_filing_answers_201_with_reference_token_and_status_url(invoke) -> None:
    response = invoke(api("api_file_complaint.json", headers={"Idempotency-Key": str(uuid.uuid4())}))
    assert response["statusCode"] == 201
    filed = body_of(response)
    assert re.fullmatch(r"CMP-\d{4}-[0-9A-HJKMNP-TV-Z]{6}", filed["reference"])
    assert len(filed["access_token"]) >= 40
    assert filed["status"] == "received"
    # The sample event came through execute-api, so the URL carries the stage.
    assert filed["status_url"] == (f"https://abc123defg.execute-api.eu-west-2.amazonaws.com/dev/complaints/"
                                   f"{filed['reference']}")
    assert header(response, "Location") == filed["status_url"]
    assert header(response, "Cache-Control") == "no-store"


def test_the_same_submission_twice_makes_one_case(invoke, dynamodb) -> None:
    table = os.environ["TABLE_NAME"]
    event = api("api_file_complaint.json", headers={"Idempotency-Key": str(uuid.uuid4())})
    before = count_cases(dynamodb, table)
    first, second = invoke(event), invoke(event)
    assert first["statusCode"] == second["statusCode"] == 201
    assert body_of(first) == body_of(second)
    assert count_cases(dynamodb, table) == before + 1


def test_a_reused_key_with_another_body_is_refused(invoke) -> None:
    key = str(uuid.uuid4())
    assert invoke(api("api_file_complaint.json", headers={"Idempotency-Key": key}))["statusCode"] == 201
    other = api("api_file_complaint.json", headers={"Idempotency-Key": key})
    other["body"] = other["body"].replace("charged twice", "charged three times")
    response = invoke(other)
    assert response["statusCode"] == 422
    assert body_of(response)["type"].endswith("/idempotency-key-reused")


def powertools_records(dynamodb) -> set[str]:
    """The ids of Powertools' own records in the idempotency table (not the filings' keys, ``filed#...``)."""
    table = os.environ["IDEMPOTENCY_TABLE_NAME"]
    items = dynamodb.scan(TableName=table, ProjectionExpression="id", ConsistentRead=True)["Items"]
    return {item["id"]["S"] for item in items if not item["id"]["S"].startswith("filed#")}


def lose_the_answer(dynamodb, before: set[str]) -> None:
    """What a function that wrote the case and then timed out leaves: no answer saved by Powertools (its in-progress
    record expires at the function's deadline, and the retry runs the handler again)."""
    for record in powertools_records(dynamodb) - before:
        dynamodb.delete_item(TableName=os.environ["IDEMPOTENCY_TABLE_NAME"], Key={"id": {"S": record}})


def test_a_retry_after_a_lost_answer_gets_the_same_case_and_token(invoke, dynamodb) -> None:
    table = os.environ["TABLE_NAME"]
    event = api("api_file_complaint.json", headers={"Idempotency-Key": str(uuid.uuid4())})
    before, cases = powertools_records(dynamodb), count_cases(dynamodb, table)
    first = invoke(event)
    lose_the_answer(dynamodb, before)
    second = invoke(event)
    assert first["statusCode"] == second["statusCode"] == 201, second
    assert {k: body_of(second)[k] for k in ("reference", "access_token")} == \
        {k: body_of(first)[k] for k in ("reference", "access_token")}
    assert count_cases(dynamodb, table) == cases + 1
    status = invoke(api("api_complaint_status.json", reference=body_of(first)["reference"],
                        headers={"X-Access-Token": body_of(second)["access_token"]}))
    assert status["statusCode"] == 200, status


def test_a_retry_after_a_lost_answer_with_another_body_is_refused(invoke, dynamodb) -> None:
    table = os.environ["TABLE_NAME"]
    key = str(uuid.uuid4())
    before, cases = powertools_records(dynamodb), count_cases(dynamodb, table)
    assert invoke(api("api_file_complaint.json", headers={"Idempotency-Key": key}))["statusCode"] == 201
    lose_the_answer(dynamodb, before)
    other = api("api_file_complaint.json", headers={"Idempotency-Key": key})
    other["body"] = other["body"].replace("charged twice", "charged three times")
    response = invoke(other)
    assert response["statusCode"] == 422, response
    assert body_of(response)["type"].endswith("/idempotency-key-reused")
    assert "CMP-" not in body_of(response)["detail"]  # the case the key filed is not named
    assert count_cases(dynamodb, table) == cases + 1


@pytest.mark.parametrize(
    ("body", "status", "slug", "mentions"),
    [
        ('{"complainant": {"name": "A"', 400, "malformed-json", "could not be read as JSON"),
        ({"complainant": {"name": "A", "email": "a@example.com"}, "product_or_service": "x", "description": "d"},
         422, "invalid-request", "remedy_sought"),
        ({"complainant": {"name": "A", "email": "a@example.com"}, "product_or_service": "x", "description": "d" * 100_001,
          "remedy_sought": "unknown"}, 422, "invalid-request", "description"),
        ({"complainant": {"name": "A", "email": "not-an-email"}, "product_or_service": "x", "description": "d",
          "remedy_sought": "unknown"}, 422, "invalid-request", "complainant.email"),
        ({"complainant": {"name": "A"}, "product_or_service": "x", "description": "d", "remedy_sought": "unknown"},
         422, "invalid-request", "has no email"),
        ({"complainant": {"name": "A", "email": "a@example.com"}, "product_or_service": "x", "description": "d",
          "remedy_sought": "unknown", "colour": "blue"}, 422, "invalid-request", "colour"),
        ([1, 2], 422, "invalid-request", "body"),
    ],
)
def test_bad_input_gets_a_problem_that_says_what_to_fix(invoke, body, status, slug, mentions) -> None:
    response = invoke(api("api_file_complaint.json", body=body, headers={"Idempotency-Key": None}))
    assert response["statusCode"] == status
    assert header(response, "Content-Type") == "application/problem+json"
    problem = body_of(response)
    assert problem["type"].endswith("/" + slug) and problem["status"] == status
    assert mentions in problem["detail"]


def test_a_non_json_content_type_is_415(invoke) -> None:
    response = invoke(api("api_file_complaint.json", headers={"Content-Type": "text/plain", "Idempotency-Key": None}))
    assert response["statusCode"] == 415
    assert "application/json" in body_of(response)["detail"]


def test_status_needs_the_right_token_and_reveals_nothing_otherwise(invoke) -> None:
    mine, other = file_one(invoke), file_one(invoke)
    ok = invoke(api("api_complaint_status.json", reference=mine["reference"],
                    headers={"X-Access-Token": mine["access_token"]}))
    assert ok["statusCode"] == 200
    view = body_of(ok)
    assert view["reference"] == mine["reference"] and view["status"] in {"received", "acknowledged"}
    assert view["timeline"][0]["what"] == "Complaint received"
    assert "access_token_hash" not in ok["body"] and "ada@example.com" not in ok["body"]

    unknown = invoke(api("api_complaint_status.json", reference="CMP-2026-ZZZZZZ",
                         headers={"X-Access-Token": mine["access_token"]}))
    wrong = invoke(api("api_complaint_status.json", reference=mine["reference"],
                       headers={"X-Access-Token": other["access_token"]}))
    missing = invoke(api("api_complaint_status.json", reference=mine["reference"], headers={"X-Access-Token": None}))
    expected = body_of(unknown)["detail"].replace("CMP-2026-ZZZZZZ", "REF")
    for response in (wrong, missing):
        assert response["statusCode"] == unknown["statusCode"] == 404
        problem = body_of(response)
        assert problem["type"] == body_of(unknown)["type"]
        assert problem["detail"].replace(mine["reference"], "REF") == expected


def test_the_complainant_adds_information_but_not_to_a_closed_case(invoke) -> None:
    filed = file_one(invoke)
    ref, token = filed["reference"], filed["access_token"]
    added = invoke(api("api_add_message.json", reference=ref, headers={"X-Access-Token": token}))
    assert added["statusCode"] == 201, added
    view = body_of(invoke(api("api_complaint_status.json", reference=ref, headers={"X-Access-Token": token})))
    assert view["timeline"][-1]["message"].startswith("I have found the receipt")

    repo = wiring.case_repository()
    for _ in range(10):  # the stack's own lifecycle may acknowledge the case meanwhile: reload and close again
        case = repo.get(ref)
        try:
            repo.record(steps.close(case, ClosureReason.WITHDRAWN, Actor(kind="staff", id="s", roles=("manager",)),
                                    case.updated_at, get_settings().handling_policy()))
            break
        except ConcurrentUpdate:
            continue
    refused = invoke(api("api_add_message.json", reference=ref, headers={"X-Access-Token": token}))
    assert refused["statusCode"] == 409
    problem = body_of(refused)
    assert problem["type"].endswith("/wrong-state") and "closed" in problem["detail"]


def test_lower_case_references_are_understood(invoke) -> None:
    filed = file_one(invoke)
    response = invoke(api("api_complaint_status.json", reference=filed["reference"].lower(),
                          headers={"X-Access-Token": filed["access_token"]}))
    assert response["statusCode"] == 200


def test_process_information_is_published(invoke) -> None:
    info = body_of(invoke(load("api_process.json")))
    assert "remedy_sought" in info["what_to_provide"]
    assert "56 days" in info["time_frames"]["final_response"]
    assert "free of charge" in info["charges"]
