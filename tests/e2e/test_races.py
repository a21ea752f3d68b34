"""Races AWS will produce, produced on purpose over HTTP against the local stack, whose functions run their
invocations at once (each in its own execution environment) up to their reserved concurrency:

* the same Idempotency-Key sent 20 times at once files one case, and every caller gets its answer (at once, or after
  the documented 409 ``request-in-progress`` and a retry, as Powertools' idempotency has it);
* 10 staff changes to one case at once lose none and leave no gap in the timeline (a change that lost the race is
  answered 409 ``concurrent-update`` and sent again, as a client does);
* the outbox publisher (the table's stream) and the sweeper (its schedule) racing on the same events publish each
  at most twice, and the consumers act once: one acknowledgement, one email.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import boto3
import pytest
import requests

from tests.conftest import archived_events, sent_emails
from tests.handlers.events import api, load

from .test_over_http import COMPLAINT, token

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def url(stack) -> str:
    return stack.api_url


def at_once(calls: int, send) -> list[Any]:
    """``send(i)`` from ``calls`` threads released together."""
    start = threading.Barrier(calls)

    def racer(i: int) -> requests.Response:
        start.wait()
        return send(i)

    with ThreadPoolExecutor(calls) as pool:
        return list(pool.map(racer, range(calls)))


RETRIED = (409, 429, 502, 504)


def until_done(response: requests.Response, again, *, retry_on: str) -> requests.Response:
    """Send again, as a client does, while the answer is the 409 problem it is told to retry on, API Gateway's 429 (the
    stage's throttling: POST /complaints takes a burst of 20, then 5 a second), or a 502/504 (a function that did not
    answer within its Timeout on a busy machine: the API's own answer says to send it again)."""
    for _ in range(30):
        if response.status_code not in RETRIED:
            return response
        problem = response.json()
        assert response.status_code != 409 or problem["type"].endswith(retry_on), problem
        time.sleep(float(response.headers.get("Retry-After", "0.5")))
        response = again()
    return response


def cases_filed_by(stack, email: str) -> list[str]:
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.dynamodb_endpoint, region_name="eu-west-2")
    table = stack.template.tables()["CasesTable"].name
    references = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, FilterExpression="kind = :case",
                                                         ExpressionAttributeValues={":case": {"S": "case"}}):
        for item in page["Items"]:
            if email in json.dumps(item):
                references.append(item["pk"]["S"].removeprefix("CASE#"))
    return references


def test_one_idempotency_key_sent_20_times_at_once_files_one_case_and_gets_one_answer(stack, url) -> None:
    email = f"race-{uuid.uuid4().hex[:12]}@example.com"
    complaint = {**COMPLAINT, "complainant": {"name": "Ada Racer", "email": email}}
    key = str(uuid.uuid4())
    # What is raced is the product's code, not cold starts: twenty first requests at once (imports, validators,
    # clients) on a two-core machine would outlast the function's Timeout. A filing the API refuses (422) and a
    # status request with a wrong token (404) take each environment through validation and its DynamoDB client.
    stack.functions.warm("PublicApiFunction", 20, [
        api("api_file_complaint.json", body={"complainant": {}}),
        api("api_complaint_status.json", headers={"X-Access-Token": "not-the-token"}),
    ])

    def send(_: int = 0) -> requests.Response:
        return requests.post(f"{url}/complaints", json=complaint, headers={"Idempotency-Key": key}, timeout=60)

    raced = at_once(20, send)
    assert {r.status_code for r in raced} <= {201, *RETRIED}, [(r.status_code, r.text) for r in raced]
    in_progress = [r for r in raced if r.status_code == 409]
    for refused in in_progress:
        assert refused.headers["Content-Type"] == "application/problem+json" and refused.headers["Retry-After"]
    answers = [until_done(r, send, retry_on="/request-in-progress") for r in raced]
    assert [a.status_code for a in answers] == [201] * 20
    assert len({a.text for a in answers}) == 1  # one answer, the access token included
    assert cases_filed_by(stack, email) == [answers[0].json()["reference"]]


def test_ten_staff_changes_to_one_case_at_once_lose_none_and_leave_no_gap(stack, url) -> None:
    filed = requests.post(f"{url}/complaints", json=COMPLAINT, headers={"Idempotency-Key": str(uuid.uuid4())},
                          timeout=60)
    assert filed.status_code == 201, filed.text
    ref = filed.json()["reference"]
    stack.wait_until_idle(timeout=60)  # acknowledged: the lifecycle is not part of this race
    staff = {"Authorization": f"Bearer {token(url, 'supervisor', 'sup-race')}"}
    stack.functions.warm("StaffApiFunction", 10, [api("api_staff_get_case.json", reference=ref)])
    run = uuid.uuid4().hex[:8]

    def change(i: int) -> requests.Response:
        if i % 2:
            return requests.put(f"{url}/staff/cases/{ref}/owner", headers=staff, timeout=60,
                                json={"owner": f"owner-{run}-{i}", "reason": f"race {run} {i}"})
        return requests.post(f"{url}/staff/cases/{ref}/notes", headers=staff, timeout=60,
                             json={"body": f"note {run} {i}"})

    raced = at_once(10, change)
    assert {r.status_code for r in raced} <= {200, 201, *RETRIED}, [(r.status_code, r.text) for r in raced]
    answers = [until_done(r, lambda i=i: change(i), retry_on="/concurrent-update") for i, r in enumerate(raced)]
    assert [a.status_code for a in answers] == [200 if i % 2 else 201 for i in range(10)]

    case = requests.get(f"{url}/staff/cases/{ref}", headers=staff, timeout=60).json()
    timeline = case["timeline"]
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))  # no gap, no duplicate
    notes = {e["body"] for e in timeline if e["action"] == "add_note"}
    assert notes == {f"note {run} {i}" for i in range(0, 10, 2)}
    owners = [e["after"]["owner"] for e in timeline if e["action"] == "assign"]
    assert sorted(owners) == sorted(f"owner-{run}-{i}" for i in range(1, 10, 2))
    assert case["owner"] == owners[-1]  # the last assignment is the one that holds


def test_the_outbox_publisher_and_sweeper_racing_publish_at_most_twice_and_consumers_act_once(stack, url) -> None:
    scheduled = load("schedule_outbox_sweep.json")
    filed = []
    swept = 0
    for _ in range(3):
        email = f"outbox-{uuid.uuid4().hex[:12]}@example.com"
        answer = requests.post(f"{url}/complaints", json={**COMPLAINT, "complainant": {"name": "Al", "email": email}},
                               headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=60)
        assert answer.status_code == 201, answer.text
        filed.append((answer.json()["reference"], email))
        # While the stream publisher sends the case's first events, the sweeper finds them past its grace period:
        # the clock jumps over OUTBOX_GRACE_SECONDS (300), which also fires the sweeper's own schedule.
        stack.clock.advance(timedelta(seconds=301))
        swept += stack.functions.invoke("OutboxSweeperFunction", scheduled)["published"]
    stack.wait_until_idle(timeout=120)
    # Once more, for what the acknowledgements wrote, while the notifications are still on their way.
    stack.clock.advance(timedelta(seconds=301))
    swept += stack.functions.invoke("OutboxSweeperFunction", scheduled)["published"]
    stack.wait_until_idle(timeout=120)

    for reference, email in filed:
        events = archived_events(stack, reference)
        published: dict[str, int] = {}
        for event in events:
            published[event["event_id"]] = published.get(event["event_id"], 0) + 1
        assert published and max(published.values()) <= 2, published
        assert {e["type"] for e in events} >= {"CaseOpened", "CaseStatusChanged"}
        acknowledged = [e for e in events if e["type"] == "CaseStatusChanged" and e["data"]["action"] == "acknowledge"]
        assert len({e["event_id"] for e in acknowledged}) == 1  # one acknowledgement, however often it went out
        assert len(sent_emails(email)) == 1  # and one email for it
        staff = {"Authorization": f"Bearer {token(url, 'auditor')}"}
        case = requests.get(f"{url}/staff/cases/{reference}", headers=staff, timeout=60).json()
        assert [e["action"] for e in case["timeline"]].count("acknowledge") == 1
        assert case["status"] == "acknowledged"
    # How far the race reached: events the sweeper found pending while the stream publisher was publishing them too.
    print(f"the sweeper published {swept} event(s) the stream publisher was publishing too")
