"""The stage's throttling as the real template declares it: a token bucket per method, from MethodSettings."""

from __future__ import annotations

from pathlib import Path

import pytest
from amends_local.template import Template
from amends_local.throttling import StageThrottle, TokenBucket, resource_path

ROOT = Path(__file__).resolve().parents[2]


class FakeTime:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def real_throttle() -> tuple[StageThrottle, FakeTime]:
    now = FakeTime()
    return StageThrottle(Template(ROOT / "template.yaml").api_method_settings(), now=now), now


def allowed(throttle: StageThrottle, path: str, method: str, tries: int) -> int:
    return sum(throttle.allow(path, method) for _ in range(tries))


def test_a_public_route_takes_its_burst_then_its_rate(real_throttle) -> None:
    throttle, now = real_throttle  # PublicBurstLimit 20, PublicRateLimit 5 (the parameters' defaults)
    assert allowed(throttle, "/complaints", "POST", 30) == 20
    now.at += 1
    assert allowed(throttle, "/complaints", "POST", 30) == 5
    now.at += 60
    assert allowed(throttle, "/complaints", "POST", 30) == 20  # refilled to the burst, not beyond


def test_every_method_has_a_bucket_of_its_own(real_throttle) -> None:
    throttle, _ = real_throttle
    assert allowed(throttle, "/complaints", "POST", 25) == 20
    assert allowed(throttle, "/complaints/{reference}", "GET", 25) == 20  # its own public limit
    assert allowed(throttle, "/complaints", "OPTIONS", 25) == 20  # preflights too
    assert allowed(throttle, "/staff/cases", "GET", 150) == 100  # the stage default: burst 100, 50 a second
    assert allowed(throttle, "/staff/cases/{reference}", "GET", 150) == 100  # per method, not for the stage


def test_the_template_parameters_set_the_public_limits() -> None:
    template = Template(ROOT / "template.yaml", parameters={"PublicRateLimit": "1", "PublicBurstLimit": "3"})
    throttle = StageThrottle(template.api_method_settings(), now=FakeTime())
    assert allowed(throttle, "/complaints", "POST", 10) == 3


def test_resource_paths_are_unescaped_as_api_gateway_writes_them() -> None:
    assert resource_path("/~1complaints~1{reference}~1messages") == "/complaints/{reference}/messages"
    assert resource_path("/~1") == "/" and resource_path("/*") == "/*"


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    now = FakeTime()
    bucket = TokenBucket(rate=2, burst=3, now=now)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now.at += 0.5
    assert [bucket.take() for _ in range(2)] == [True, False]
    zero = TokenBucket(rate=0, burst=0, now=now)  # a method throttled to nothing
    assert not zero.take()
