"""Case events from the lifecycle events queue → the case's lifecycle execution.

Each SQS message is an EventBridge event whose detail is a domain event that opened, reopened or changed the status
of a case: an opening or reopening starts the case's execution, and a change wakes the execution waiting for it (see
amends.services.orchestration). Duplicates and late events change nothing. A message that fails is retried and,
after the queue's maxReceiveCount, kept in the dead-letter queue with an alarm; each invocation emits FailedRecords.
"""

from __future__ import annotations

import json
from typing import Any

# Imported before pydantic is: when pydantic is already loaded, Powertools' batch utility also imports its parser
# models (for type hints only), which costs about a fifth of the floor of a cold start (see make bench).
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

# isort: split
from amends import wiring
from amends.domain.events import DomainEvent
from amends.observability import logger, process_batch, tracer
from amends.services import orchestration
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.SQS)


def handle_record(record: SQSRecord) -> None:
    event = DomainEvent.model_validate(json.loads(record.body)["detail"])  # the body is an EventBridge event
    outcome = orchestration.on_event(event, tokens=wiring.execution_tokens(), history=wiring.status_history(),
                                     callbacks=wiring.task_callbacks(), starter=wiring.execution_starter())
    logger.info("lifecycle event", extra={
        "reference": event.case_reference, "type": event.type, "version": event.case_version,
        "started": outcome.started, "sent": outcome.woke.output() if outcome.woke else None})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_batch(event, handle_record, processor, context)
