"""Long complaints over HTTP through the local stack: filed, added to, and read back whole by staff and by the
complainant, in Latin, CJK and emoji script at the limit, and the longest real narrative in the CFPB sample."""

from __future__ import annotations

import csv
import json
import os
import uuid
from pathlib import Path

import boto3
import pytest
import requests

from .test_over_http import COMPLAINT, token

pytestmark = pytest.mark.e2e

N = 100_000  # what must be accepted in any script (the limit may be higher)
CFPB = Path(os.environ.get("AMENDS_CFPB_SAMPLE", "/work/shared/data/cfpb/complaints_sample.csv"))
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024


def longest_cfpb_narrative() -> str:
    if not CFPB.exists():
        pytest.skip(f"the CFPB sample is not at {CFPB} (set AMENDS_CFPB_SAMPLE)")
    with CFPB.open(newline="", encoding="utf-8") as sample:
        return max((row.get("Consumer complaint narrative") or "" for row in csv.DictReader(sample)), key=len)


TEXTS = {"latin": lambda: "Lorem ipsum dolor sit amet. " * (N // 28) + "x" * (N % 28),
         "cjk": lambda: "我的转账被重复扣款。" * (N // 10), "emoji": lambda: "😀🏦💸" * (N // 3) + "🙏",
         "cfpb": longest_cfpb_narrative}


@pytest.fixture(scope="module")
def url(stack) -> str:
    return stack.api_url


@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_a_long_complaint_is_read_back_whole_by_staff_and_complainant(url, stack, kind) -> None:
    text = TEXTS[kind]().strip()
    assert len(text) == N or kind == "cfpb"
    remedy = text if kind != "cfpb" else "A fair resolution"
    message, note = "M" + text[1:], "N" + text[1:]
    key = str(uuid.uuid4())

    filed = requests.post(f"{url}/complaints", json={**COMPLAINT, "description": text, "remedy_sought": remedy},
                          headers={"Idempotency-Key": key}, timeout=60)
    assert filed.status_code == 201, filed.text[:500]
    ref, access = filed.json()["reference"], {"X-Access-Token": filed.json()["access_token"]}
    added = requests.post(f"{url}/complaints/{ref}/messages", json={"message": message}, headers=access, timeout=60)
    assert added.status_code == 201, added.text[:500]
    staff = {"Authorization": f"Bearer {token(url, 'handler', 'h-long')}"}
    noted = requests.post(f"{url}/staff/cases/{ref}/notes", json={"body": note}, headers=staff, timeout=60)
    assert noted.status_code == 201, noted.text[:500]

    detail = requests.get(f"{url}/staff/cases/{ref}", headers=staff, timeout=60)
    assert detail.status_code == 200
    case = detail.json()
    assert case["submission"]["description"].encode() == text.encode()
    assert case["submission"]["remedy_sought"].encode() == remedy.encode()
    assert [e["body"] for e in case["timeline"] if e["body"]] == [message, note]

    mine = requests.get(f"{url}/complaints/{ref}", headers=access, timeout=60)
    assert mine.status_code == 200
    view = mine.json()
    assert view["description"].encode() == text.encode() and view["remedy_sought"].encode() == remedy.encode()
    assert [t["message"] for t in view["timeline"] if t["message"]] == [message]  # the note is not theirs to see

    # What else carries the request: the idempotency records keep the answer and hashes, not the body.
    assert requests.post(f"{url}/complaints", json={**COMPLAINT, "description": text, "remedy_sought": remedy},
                         headers={"Idempotency-Key": key}, timeout=60).json() == filed.json()
    table = os.environ["IDEMPOTENCY_TABLE_NAME"]
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.dynamodb_endpoint, region_name="eu-west-2")
    records = [i for i in dynamodb.scan(TableName=table)["Items"] if ref in json.dumps(i)]
    # Powertools' answer and the filing's own record of the key (amends.adapters.filing_requests)
    assert sorted(i["id"]["S"].startswith("filed#") for i in records) == [False, True]
    assert all(len(json.dumps(record)) < 2_000 for record in records)
    # Lambda answers at most 6 MB (the runtime wraps the body in JSON once more); a case with four texts at the
    # limit stays under it.
    for response in (detail, mine):
        assert len(json.dumps({"body": response.text}).encode()) < LAMBDA_RESPONSE_LIMIT
    # ...because answers carry text as UTF-8, not as \u escapes (three times the bytes for an emoji).
    texts = len((text + remedy + message + note).encode())
    assert len(detail.content) < 1.5 * texts + 50_000
