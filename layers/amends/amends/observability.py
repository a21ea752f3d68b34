"""Logs and traces for every function, set up once per execution environment.

With active tracing, Lambda records each invocation's segment; the Tracer adds a subsegment for the handler (with
the ColdStart annotation) and one for every AWS call. By default it patches every library the X-Ray SDK knows
(requests, sqlite3, database drivers, ...), importing those that are installed; we patch only botocore, the one
library our AWS calls go through.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer

logger = Logger()
tracer = Tracer(patch_modules=["botocore"])


def report_failed_records(count: int, function_name: str) -> None:
    """FailedRecords, one EMF document per invocation of a batch consumer, in POWERTOOLS_METRICS_NAMESPACE with the
    service and the function's name: Lambda's Errors metric stays at zero when only some records fail, so the
    template's alarms watch this.

    single_metric keeps its own state; Metrics' state is shared by every instance in a process. Imported here: the
    API functions, which report no batches, need not load the metrics package at their cold start.
    """
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(name="FailedRecords", unit=MetricUnit.Count, value=count) as metric:
        metric.add_dimension(name="function_name", value=function_name)


def process_batch(event: dict[str, Any], record_handler: Any, processor: Any, context: Any) -> dict[str, Any]:
    """Powertools' partial batch response for a batch consumer, with its FailedRecords reported whatever happens:
    the records that failed, or all of them when the batch could not be processed at all."""
    from aws_lambda_powertools.utilities.batch import process_partial_response

    failed = len(event.get("Records", []))  # all of them, unless the batch is processed
    try:
        response = process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                            context=context)
        failed = len(response["batchItemFailures"])
        return response
    finally:
        report_failed_records(failed, context.function_name)
