"""Limits, as AWS holds a function behind API Gateway to them, on the fixture stack's API: Lambda's 6 MB synchronous
payloads (request and answer), the integration timeout, the function's reserved concurrency and the stage's
throttling."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from amends_local.limits import SYNC_REQUEST_LIMIT, SYNC_RESPONSE_LIMIT

from .conftest import FIXTURES
from .test_runtime import eventually, item


@pytest.fixture(scope="module")
def api_stack(dynamodb_endpoint, tmp_path_factory):
    from amends_local.stack import LocalStack

    with LocalStack(FIXTURES, persist=False, api_port=0, dynamodb_endpoint=dynamodb_endpoint,
                    state_dir=tmp_path_factory.mktemp("state"), quiet=True) as stack:
        yield stack


def post(stack, path: str, ask: dict | None = None, *, body: bytes | None = None) -> requests.Response:
    data = body if body is not None else json.dumps(ask or {}).encode()
    return requests.post(f"{stack.api_url}{path}", data=data, timeout=60)


def test_an_event_over_6_mb_is_refused_with_413_and_never_reaches_the_function(api_stack) -> None:
    fits = post(api_stack, "/sleep", body=b"x" * (SYNC_REQUEST_LIMIT - 20_000))  # the event adds headers around it
    assert fits.status_code == 200 and fits.json()["received"] == SYNC_REQUEST_LIMIT - 20_000
    refused = post(api_stack, "/sleep", body=b"x" * (SYNC_REQUEST_LIMIT + 1))  # API Gateway takes up to 10 MB
    assert refused.status_code == 413
    assert refused.json() == {"message": "Request Too Long"}  # the fixture Api does not customise it
    assert refused.headers["x-amzn-ErrorType"] == "RequestTooLargeException"


def test_an_answer_over_6_mb_fails_the_integration_with_502(api_stack) -> None:
    fits = post(api_stack, "/sleep", {"big": SYNC_RESPONSE_LIMIT - 1_000})  # the proxy response wraps the body
    assert fits.status_code == 200 and len(fits.content) == SYNC_RESPONSE_LIMIT - 1_000
    too_big = post(api_stack, "/sleep", {"big": SYNC_RESPONSE_LIMIT})
    assert too_big.status_code == 502 and too_big.json() == {"message": "Internal server error"}


def test_the_integration_timeout_is_504_while_the_function_runs_on_to_its_own_timeout(api_stack) -> None:
    mark = uuid.uuid4().hex
    started = time.monotonic()
    answer = post(api_stack, "/sleep-briefly", {"id": mark, "sleep": 3})  # SlowFunction: TimeoutInMillis 1000
    waited = time.monotonic() - started
    assert answer.status_code == 504 and answer.json() == {"message": "Endpoint request timed out"}
    assert 1.0 <= waited < 2.5
    eventually(lambda: item(api_stack, f"handled#{mark}"), timeout=20)  # it finished after the gateway gave up


def test_a_function_at_its_reserved_concurrency_is_throttled_at_once_not_waited_for(api_stack) -> None:
    with ThreadPoolExecutor(3) as pool:
        running = [pool.submit(post, api_stack, "/sleep", {"sleep": 1.2}) for _ in range(2)]
        time.sleep(0.5)  # both hold an execution environment (ReservedConcurrentExecutions: 2)
        started = time.monotonic()
        throttled = post(api_stack, "/sleep", {"sleep": 0})
        answered_in = time.monotonic() - started
        assert [r.result().status_code for r in running] == [200, 200]
    # Lambda refuses the invocation; API Gateway answers 500 for a rejected invocation (INTEGRATION_FAILURE).
    assert throttled.status_code == 500 and throttled.json() == {"message": "Internal server error"}
    assert answered_in < 0.5
    assert post(api_stack, "/sleep", {"sleep": 0}).status_code == 200  # free again


def test_the_stage_throttles_a_method_past_its_burst_with_the_templates_429(api_stack) -> None:
    url = f"{api_stack.api_url}/throttled"  # ThrottlingBurstLimit: 2, ThrottlingRateLimit: 1
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: requests.get(url, timeout=30), range(3)))
    assert sorted(a.status_code for a in answers) == [200, 200, 429]
    throttled = next(a for a in answers if a.status_code == 429)
    assert throttled.headers["Retry-After"] == "1"  # the Api's THROTTLED gateway response sets it
    assert throttled.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    time.sleep(1.1)  # one token a second
    assert requests.get(url, timeout=30).status_code == 200
    assert post(api_stack, "/sleep", {"sleep": 0}).status_code == 200  # other methods have buckets of their own
