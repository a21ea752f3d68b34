"""DynamoDB stream → event bus: publishes the outbox events each case change wrote with it.

Failed records are reported individually (ReportBatchItemFailures), retried by Lambda, and after the
last retry land in the on-failure queue; the scheduled sweeper publishes anything still pending. Lambda's
Errors metric stays at zero when only some records fail, so each invocation emits FailedRecords (an alarm
watches it).
"""

from __future__ import annotations

from typing import Any

# Imported before pydantic is: when pydantic is already loaded, Powertools' batch utility also imports its parser
# models (for type hints only), which costs about a fifth of the floor of a cold start (see make bench).
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

# isort: split
from amends import wiring
from amends.adapters.dynamodb import event_from_outbox_image
from amends.observability import logger, process_batch, tracer
from amends.services import outbox
from amends.settings import get_clock
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


class PublishFailed(Exception):
    """EventBridge refused the event; Lambda retries the record."""


def publish_record(record: DynamoDBRecord) -> None:
    event = event_from_outbox_image(record.raw_event["dynamodb"]["NewImage"])
    failed = outbox.publish([event], publisher=wiring.event_publisher(), outbox=wiring.case_repository(),
                            clock=get_clock())
    if failed:
        raise PublishFailed(f"event {event.event_id} ({event.type}) was not accepted by the bus")
    logger.info("published", extra={"event_id": event.event_id, "type": event.type,
                                    "reference": event.case_reference})



@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_batch(event, publish_record, processor, context)
