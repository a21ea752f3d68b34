"""Lambda's payload limits for synchronous invocations and API Gateway's integration timeout.

* Request: Lambda refuses a synchronous invocation whose event, serialised, is over 6 MB (6,291,456 bytes;
  ``RequestEntityTooLargeException``: "Request must be smaller than 6291456 bytes for the InvokeFunction
  operation"); the function never runs. Behind API Gateway (a REST API allows 10 MB) the client gets 413.
* Response: a result over 6 MB (6,291,556 bytes, 100 more than a request may have) fails the invocation with
  ``Function.ResponseSizeTooLarge`` after the function ran; behind API Gateway that is a failed integration, 502.
* A REST API waits for its integration at most ``TimeoutInMillis`` (the Api event's, default 29,000 ms), then
  answers the INTEGRATION_TIMEOUT gateway response (504) while the function runs on to its own Timeout.

Sizes are measured on the JSON Lambda carries: compact, non-ASCII characters as ``\\u`` escapes, as the runtime
serialises them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

SYNC_REQUEST_LIMIT = 6 * 1024 * 1024  # bytes: Lambda's synchronous Invoke request payload
SYNC_RESPONSE_LIMIT = SYNC_REQUEST_LIMIT + 100  # bytes: what a synchronous invocation may answer
INTEGRATION_TIMEOUT_MS = 29_000  # API Gateway's default (and, without a quota increase, maximum) for a REST API


class RequestTooLarge(ValueError):
    """Lambda refused the invocation: its event is over the synchronous payload limit (the function never ran)."""


class IntegrationTimeout(TimeoutError):
    """The integration did not answer within the API's integration timeout."""


def payload_size(value: Any) -> int:
    """Bytes of ``value`` as the JSON Lambda carries."""
    return len(json.dumps(value, separators=(",", ":")).encode())


def check_request(event: Any) -> None:
    size = payload_size(event)
    if size > SYNC_REQUEST_LIMIT:
        raise RequestTooLarge(f"{size} byte payload is too large for the RequestResponse invocation type: "
                              f"Request must be smaller than {SYNC_REQUEST_LIMIT} bytes for the InvokeFunction "
                              "operation")


def response_too_large(result: Any) -> dict[str, Any] | None:
    """Lambda's error payload when ``result`` is over the response limit; None when it fits."""
    if payload_size(result) <= SYNC_RESPONSE_LIMIT:
        return None
    return {"errorType": "Function.ResponseSizeTooLarge",
            "errorMessage": f"Response payload size exceeded maximum allowed payload size ({SYNC_RESPONSE_LIMIT} "
                            "bytes)."}


def within[T](seconds: float, call: Callable[[], T], *, name: str) -> T:
    """``call()``'s result or exception if it ends within ``seconds``; else :class:`IntegrationTimeout`, and the
    call runs on in its own thread (API Gateway stops waiting; the function does not stop)."""
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the waiting caller, who re-raises it
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=run, name=name, daemon=True).start()
    if not done.wait(seconds):
        raise IntegrationTimeout(f"{name}: no answer within {seconds:g}s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
