"""SES's bounces and complaints about mail we sent (the configuration set's event destination → SNS → this queue)
→ the address marked undeliverable and the case told (amends.services.mail_feedback).

Each SQS message is an SES event notification (delivered raw; an SNS envelope is opened too). A redelivered one is
recognised by its feedback id and not recorded twice. A message that fails is retried and, after the queue's
maxReceiveCount, kept in the dead-letter queue with an alarm; FailedRecords counts the failures of each invocation.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

# isort: split
from amends import wiring
from amends.adapters.ses import ses_message_id
from amends.observability import logger, process_batch, tracer
from amends.services import mail_feedback
from amends.settings import get_clock
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.SQS)
_idempotency_config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=14 * 24 * 3600)


def notification_of(body: str) -> dict[str, Any]:
    """The SES notification in a queue message: raw, or inside SNS's envelope."""
    message = json.loads(body)
    if isinstance(message, dict) and message.get("Type") == "Notification" and "Message" in message:
        message = json.loads(message["Message"])
    if not isinstance(message, dict):
        raise ValueError("not an SES notification (a JSON object was expected)")
    return message


def feedback_key(notification: dict[str, Any]) -> str:
    kind = str(notification.get("eventType") or notification.get("notificationType") or "")
    detail = notification.get(kind.lower()) or {}
    return f"{(notification.get('mail') or {}).get('messageId')}/{kind}/{detail.get('feedbackId', '')}"


def record(notification: dict[str, Any]) -> dict[str, Any]:
    region = os.environ.get("AWS_REGION", "us-east-1")
    outcome = mail_feedback.record_feedback(notification, store=wiring.sent_mail(), repo=wiring.case_repository(),
                                            clock=get_clock(), message_id_of=lambda pid: ses_message_id(pid, region))
    logger.info("mail feedback", extra={"kind": outcome.kind, "marked": list(outcome.marked),
                                        "reference": outcome.case_reference, "detail": outcome.detail})
    return {"kind": outcome.kind, "marked": list(outcome.marked), "reference": outcome.case_reference}


@cache
def _record_once():  # noqa: ANN202 - built on first use so settings are read at invocation
    return idempotent_function(data_keyword_argument="feedback", config=_idempotency_config,
                               persistence_store=wiring.idempotency_store())(
        lambda feedback: record(feedback["notification"]))


def handle_record(record: SQSRecord) -> None:
    notification = notification_of(record.body)
    _record_once()(feedback={"key": feedback_key(notification), "notification": notification})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _idempotency_config.register_lambda_context(context)
    return process_batch(event, handle_record, processor, context)
