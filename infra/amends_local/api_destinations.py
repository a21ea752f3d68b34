"""EventBridge's call to an API destination (a webhook), as EventBridge makes it.

moto records an API destination target but sends nothing to it, so provisioning bridges such a target like a
function or a queue (``provision.bridge_for``) and ``eventbridge_bridge`` hands each event here:

* one HTTPS request per event, with the destination's method, the whole event (or the target's Input) as its
  JSON body, ``Content-Type: application/json; charset=utf-8`` and EventBridge's ``User-Agent``, plus what the
  connection adds: the API key header (``API_KEY``) or ``Authorization: Basic`` (``BASIC``), and its invocation
  header and query-string parameters;
* the endpoint has 5 seconds to answer; a 2xx (or 1xx/3xx) answer is a delivery;
* 401, 407, 409, 429 and 5xx answers, time-outs and connection failures are retried (``Retried``) per the
  target's RetryPolicy; any other 4xx is not (``Refused``): the event goes straight to the dead-letter queue, as
  EventBridge documents for API destinations;
* requests are paced to the destination's ``InvocationRateLimitPerSecond``; the rest wait their turn.

TLS is verified as Python's ``ssl`` default does: a local endpoint with a certificate of its own is trusted by
pointing ``SSL_CERT_FILE`` at its CA, never by turning verification off.

Approximated: the ERROR_CODE a failed call leaves on the dead-letter message is ``SDK_CLIENT_ERROR`` with the HTTP
status in ERROR_MESSAGE; EventBridge's own wording of that message is not documented.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from amends_local.template import ApiDestination

TIMEOUT_SECONDS = 5.0  # how long EventBridge waits for an API destination's answer
RETRIED_STATUSES = frozenset({401, 407, 409, 429})
USER_AGENT = "Amazon/EventBridge/ApiDestinations"


class Retried(Exception):
    """The call failed in a way EventBridge retries."""

    code = "SDK_CLIENT_ERROR"


class Refused(Exception):
    """The endpoint refused the event with a 4xx EventBridge does not retry."""

    code = "SDK_CLIENT_ERROR"
    retried = False


class Caller:
    """Calls one API destination, at most its rate limit a second (one per destination, shared by its rules)."""

    def __init__(self, destination: ApiDestination) -> None:
        self.destination = destination
        self._interval = 1.0 / destination.rate_limit_per_second if destination.rate_limit_per_second else 0.0
        self._next_slot = 0.0
        self._lock = threading.Lock()

    def call(self, payload: Any) -> int:
        """Send ``payload``; returns the HTTP status of a delivery, raises ``Retried`` or ``Refused``."""
        d = self.destination
        url = d.endpoint
        if d.query:
            url += ("&" if urllib.parse.urlsplit(url).query else "?") + urllib.parse.urlencode(d.query)
        body = None if d.method in ("GET", "HEAD", "OPTIONS") else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT, **dict(d.headers)}
        request = urllib.request.Request(url, data=body, method=d.method, headers=headers)
        self._pace()
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()) as r:
                return int(r.status)
        except urllib.error.HTTPError as answer:
            status = answer.code
            message = f"Unable to invoke ApiDestination endpoint {d.endpoint}: it answered HTTP {status}"
            if status in RETRIED_STATUSES or status >= 500:
                raise Retried(message) from None
            if status >= 400:
                raise Refused(message) from None
            return status  # a 3xx urllib would not follow: the endpoint took the request
        except (urllib.error.URLError, TimeoutError, OSError) as failure:
            reason = getattr(failure, "reason", failure)
            raise Retried(f"Unable to invoke ApiDestination endpoint {d.endpoint}: {reason}") from None

    def _pace(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
        if slot > now:
            time.sleep(slot - now)
