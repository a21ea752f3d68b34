"""Scheduled: acts on the case timers that have fallen due (amends.services.timers), one handler per timer name.

A timer whose handler fails stays due and is tried again on a later run; each run emits how many failed as
FailedRecords (an alarm watches it), in POWERTOOLS_METRICS_NAMESPACE with the service and the function's name.
"""

from __future__ import annotations

from typing import Any

from amends import wiring
from amends.observability import logger, report_failed_records, tracer
from amends.services import timers
from amends.settings import get_clock, get_settings
from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    clock = get_clock()
    result = timers.sweep(store=wiring.timer_store(), clock=clock,
                          handlers=timers.handlers(repo=wiring.case_repository(), clock=clock,
                                          settings=get_settings()))
    for timer, outcome, detail in result.outcomes:
        log = logger.error if outcome == "failed" else logger.info
        log("timer", extra={"reference": timer.reference, "timer": timer.name, "due_at": timer.due_at.isoformat(),
                            "outcome": outcome, "detail": detail})
    report_failed_records(result.count("failed"), context.function_name)
    return {outcome: result.count(outcome) for outcome in ("fired", "stale", "failed", "taken")}
