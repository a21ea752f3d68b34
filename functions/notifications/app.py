"""Case events from the notifications queue → messages to complainants.

Each SQS message is an EventBridge event; its detail is a domain event. A redelivered event is recognised
by its event_id and not sent twice. A message that fails is retried and, after the queue's
maxReceiveCount, kept in the dead-letter queue with an alarm. Lambda's Errors metric stays at zero when only
some messages fail, so each invocation emits FailedRecords (an alarm watches it).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

# Imported before pydantic is: when pydantic is already loaded, Powertools' batch utility also imports its parser
# models (for type hints only), which costs about a fifth of the floor of a cold start (see make bench).
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

# isort: split
from amends import wiring
from amends.domain.events import DomainEvent
from amends.observability import logger, process_batch, tracer
from amends.services import notifications
from amends.settings import get_settings
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.SQS)
_idempotency_config = IdempotencyConfig(event_key_jmespath="event_id", expires_after_seconds=7 * 24 * 3600)


def notify(event: dict[str, Any]) -> dict[str, Any]:
    domain_event = DomainEvent.model_validate(event)
    outcome = notifications.notify(domain_event, repo=wiring.case_repository(), mailer=wiring.outbound(),
                                   settings=get_settings(), threads=wiring.sent_mail(),
                                   staff=wiring.staff_directory())
    logger.info("notification", extra={"reference": domain_event.case_reference, "type": domain_event.type,
                                       "sent": outcome.sent, "detail": outcome.detail})
    return {"sent": outcome.sent, "detail": outcome.detail}


@cache
def _notify_once():  # noqa: ANN202 - built on first use so settings are read at invocation
    store = wiring.idempotency_store()
    return idempotent_function(data_keyword_argument="event", config=_idempotency_config,
                               persistence_store=store)(lambda event: notify(event))


def handle_record(record: SQSRecord) -> None:
    envelope = json.loads(record.body)  # an EventBridge event
    _notify_once()(event=envelope["detail"])



@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _idempotency_config.register_lambda_context(context)
    return process_batch(event, handle_record, processor, context)
