"""Scheduled safety net for the outbox: publishes events still pending after the grace period.

Events the bus refuses stay pending for the next run; each run emits how many as FailedRecords (an alarm
watches it), in POWERTOOLS_METRICS_NAMESPACE with the service and the function's name.
"""

from __future__ import annotations

from typing import Any

from amends import wiring
from amends.observability import logger, report_failed_records, tracer
from amends.services import outbox
from amends.settings import get_clock, get_settings
from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    published, failed = outbox.sweep(
        grace_seconds=get_settings().outbox_grace_seconds, clock=get_clock(),
        publisher=wiring.event_publisher(), outbox=wiring.case_repository(),
    )
    report_failed_records(failed, context.function_name)
    if published or failed:
        logger.warning("outbox sweep published late events", extra={"published": published, "failed": failed})
    return {"published": published, "failed": failed}
