"""API Gateway's request throttling for a REST API stage: a token bucket per method, from the stage's MethodSettings.

As API Gateway does it ("Throttle requests to your REST APIs"): each bucket holds at most ``ThrottlingBurstLimit``
tokens and refills at ``ThrottlingRateLimit`` tokens a second; a request takes one token or is refused with the
THROTTLED gateway response (429). The stage's default (``ResourcePath: "/*"``, ``HttpMethod: "*"``) applies to
every method on its own, not to the stage as a whole; a setting for one resource and method replaces it for that
method, field by field. Below them all is the account's limit (10,000 requests a second, a burst of 5,000),
shared by every method. Usage plans (per-client limits) are not emulated: the template declares none.

Buckets start full and count real time (``time.monotonic``), not the runtime clock: moving the clock forward does
not refill them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

ACCOUNT_RATE, ACCOUNT_BURST = 10_000.0, 5_000  # requests per second, bucket size: API Gateway's per-Region default
STAGE_DEFAULT = ("/*", "*")


class TokenBucket:
    def __init__(self, rate: float, burst: int, *, now: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst = rate, burst
        self._now = now
        self._tokens = float(burst)
        self._at = now()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """One token if there is one; False when the request is to be throttled."""
        with self._lock:
            now = self._now()
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


@dataclass(frozen=True)
class Limit:
    rate: float
    burst: int


def resource_path(escaped: str) -> str:
    """A MethodSettings ResourcePath as a resource's path: ``/~1complaints~1{reference}`` is a slash, then the path
    with its slashes escaped as ``~1`` (JSON Pointer), so ``/complaints/{reference}``; ``/*`` stays."""
    if escaped == "/*":
        return escaped
    return escaped.removeprefix("/").replace("~1", "/").replace("~0", "~")


class StageThrottle:
    """The stage's buckets; :meth:`allow` answers for one request to one resource and method."""

    def __init__(self, method_settings: Iterable[dict[str, Any]], *, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._settings: dict[tuple[str, str], dict[str, Any]] = {}
        for setting in method_settings:
            key = (resource_path(str(setting.get("ResourcePath", "/*"))), str(setting.get("HttpMethod", "*")).upper())
            self._settings[key] = {k: v for k, v in setting.items() if k.startswith("Throttling")}
        self._account = TokenBucket(ACCOUNT_RATE, ACCOUNT_BURST, now=now)
        self._buckets: dict[tuple[str, str], TokenBucket | None] = {}
        self._lock = threading.Lock()

    def limit(self, resource: str, method: str) -> Limit | None:
        """The limit of one method: its own setting's fields, else the stage default's; None when neither sets any."""
        own = self._settings.get((resource, method.upper()), {})
        default = self._settings.get(STAGE_DEFAULT, {})
        rate = own.get("ThrottlingRateLimit", default.get("ThrottlingRateLimit"))
        burst = own.get("ThrottlingBurstLimit", default.get("ThrottlingBurstLimit"))
        if rate is None and burst is None:
            return None
        return Limit(float(ACCOUNT_RATE if rate is None else rate), int(ACCOUNT_BURST if burst is None else burst))

    def allow(self, resource: str, method: str) -> bool:
        key = (resource, method.upper())
        with self._lock:
            if key not in self._buckets:
                limit = self.limit(resource, method)
                self._buckets[key] = TokenBucket(limit.rate, limit.burst, now=self._now) if limit else None
            bucket = self._buckets[key]
        return (bucket is None or bucket.take()) and self._account.take()
