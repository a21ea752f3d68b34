"""Lambda's asynchronous invocation, as EventBridge (rules, schedules) uses it for function targets.

Lambda accepts the event, then runs the function; a function error is retried by *Lambda* (EventInvokeConfig
MaximumRetryAttempts, default 2; MaximumEventAgeInSeconds, default 6 hours), and when retries run out the
event goes to EventInvokeConfig.DestinationConfig.OnFailure (an invocation record: requestContext,
requestPayload, responseContext, responsePayload) or, failing that, to the function's DeadLetterQueue (the
event, with RequestID/ErrorCode/ErrorMessage attributes). With neither, Lambda drops it; here it is logged as
an error with the event. A success goes to OnSuccess when one is configured.

A function error includes a timeout (``Sandbox.Timedout``: the function outlived its Timeout) and a result over
the payload limit; each is retried like any other. A throttle (the function at its concurrency: every execution
environment stayed busy) is not a function error: Lambda puts the event back and tries again until
MaximumEventAgeInSeconds, without counting it against MaximumRetryAttempts.

Only SQS destinations are emulated (others are logged). Lambda waits about a minute, then two, between
retries; here the waits are a fraction of a second.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from amends_local.aws import client
from amends_local.environments import FunctionBusy, error_payload, error_type
from amends_local.lambdas import FunctionRegistry
from amends_local.template import ACCOUNT_ID, Function

log = logging.getLogger(__name__)


def invoke_async(
    registry: FunctionRegistry,
    logical_id: str,
    event: Any,
    *,
    moto_endpoint: str,
    stopping: threading.Event | None = None,
) -> bool:
    """Run an accepted asynchronous invocation to its end; False only if stopped before it ended."""
    fn = registry.functions[logical_id]
    config = fn.event_invoke_config
    retries = int(config.get("MaximumRetryAttempts", 2))
    max_age = int(config.get("MaximumEventAgeInSeconds", 21600))
    started, attempt, throttles = time.monotonic(), 0, 0
    request_id = str(uuid.uuid4())
    while True:
        attempt += 1
        try:
            result = registry.invoke(logical_id, event)
        except FunctionBusy as throttled:  # not the function's failure: back in the queue, no retry spent
            attempt -= 1
            throttles += 1
            log.warning("%s (async) throttled: %s; tried again", fn.logical_id, throttled)
            if time.monotonic() - started > max_age:
                _failed(fn, request_id, attempt, event, throttled, moto_endpoint, condition="EventAgeExceeded")
                return True
            pause = min(0.05 * 2**throttles, 1.0)
            if stopping is not None and stopping.wait(pause):
                return False
            if stopping is None:
                time.sleep(pause)
            continue
        except Exception as error:  # noqa: BLE001 - a function error: Lambda retries, then dead-letters
            log.warning("%s (async) attempt %d raised %s: %s", fn.logical_id, attempt, error_type(error), error)
            failure = error
        else:
            _to_destination(
                fn,
                "OnSuccess",
                _record(fn, request_id, "Success", attempt, event, result, None),
                moto_endpoint,
            )
            return True
        if attempt > retries or time.monotonic() - started > max_age:
            _failed(fn, request_id, attempt, event, failure, moto_endpoint,
                    condition="RetriesExhausted" if attempt > retries else "EventAgeExceeded")
            return True
        if stopping is not None and stopping.wait(min(0.05 * 2**attempt, 1.0)):
            return False


def _failed(
    fn: Function, request_id: str, attempts: int, event: Any, error: Exception, moto_endpoint: str, *,
    condition: str,
) -> None:
    record = _record(fn, request_id, condition, attempts, event, error_payload(error), "Unhandled")
    if _to_destination(fn, "OnFailure", record, moto_endpoint):
        return
    dlq = fn.dead_letter_queue
    if dlq and dlq.get("Type", "SQS") == "SQS":
        attributes = {
            "RequestID": request_id,
            "ErrorCode": "200",
            "ErrorMessage": str(error)[:1000] or "error",
        }
        client("sqs", moto_endpoint).send_message(
            QueueUrl=_queue_url(moto_endpoint, dlq["TargetArn"]),
            MessageBody=json.dumps(event),
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )
        log.error(
            "%s (async): retries exhausted (%s); event sent to its DeadLetterQueue", fn.logical_id, error
        )
        return
    log.error(
        "%s (async): retries exhausted (%s: %s) and no OnFailure destination or DeadLetterQueue: "
        "event dropped, as Lambda would: %s",
        fn.logical_id,
        error_type(error),
        error,
        json.dumps(event),
    )


def _record(
    fn: Function,
    request_id: str,
    condition: str,
    attempts: int,
    event: Any,
    response: Any,
    function_error: str | None,
) -> dict[str, Any]:
    context = {"statusCode": 200, "executedVersion": "$LATEST"}
    if function_error:
        context["functionError"] = function_error
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{fn.arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": context,
        "responsePayload": response,
    }


def _to_destination(fn: Function, which: str, record: dict[str, Any], moto_endpoint: str) -> bool:
    destination = fn.event_invoke_config.get("DestinationConfig", {}).get(which)
    if not destination:
        return False
    arn = destination.get("Destination", "")
    if destination.get("Type", "SQS") != "SQS" and ":sqs:" not in arn:
        log.error(
            "%s (async): %s destination %s is not emulated (only SQS): %s",
            fn.logical_id,
            which,
            arn,
            json.dumps(record),
        )
        return True
    client("sqs", moto_endpoint).send_message(
        QueueUrl=_queue_url(moto_endpoint, arn), MessageBody=json.dumps(record)
    )
    level = logging.ERROR if which == "OnFailure" else logging.DEBUG
    log.log(level, "%s (async): invocation record sent to its %s destination %s", fn.logical_id, which, arn)
    return True


def _queue_url(moto_endpoint: str, queue_arn: str) -> str:
    return f"{moto_endpoint}/{ACCOUNT_ID}/{queue_arn.rsplit(':', 1)[1]}"
