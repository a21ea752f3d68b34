"""SES receipt rule → a case from the email (amends.services.email_intake), or a mail-log entry saying why not.

SES's S3 action stored the raw message under RAW_MAIL_PREFIX + its message id before invoking this function
asynchronously; Lambda retries a failed invocation twice, then sends its record to the failure destination
(EmailIngestDLQ, alarmed). A redelivery finds the message's mail-log entry and changes nothing.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from amends import wiring
from amends.observability import logger, tracer
from amends.services import email_intake, replies
from amends.settings import get_clock, get_settings
from aws_lambda_powertools.utilities.data_classes import SESEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext


def receipt_of(event: SESEvent) -> email_intake.Receipt:
    ses = event.record.ses
    verdicts = {name: (getattr(ses.receipt, f"{name}_verdict").status or "PASS")
                for name in ("spam", "virus", "spf", "dkim", "dmarc")}
    return email_intake.Receipt(
        ses_message_id=ses.mail.message_id, raw_key=os.environ.get("RAW_MAIL_PREFIX", "") + ses.mail.message_id,
        received_at=datetime.fromisoformat(ses.receipt.timestamp), recipients=tuple(ses.receipt.recipients),
        verdicts=verdicts, dmarc_policy=ses.receipt.dmarc_policy)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_source(data_class=SESEvent)
def lambda_handler(event: SESEvent, context: LambdaContext) -> dict[str, Any]:
    receipt = receipt_of(event)
    raw = wiring.raw_mail().read(receipt.raw_key)
    desk = replies.MailDesk(store=wiring.sent_mail(), repo=wiring.case_repository())
    entry = email_intake.ingest(raw, receipt, mail_log=wiring.mail_log(), clock=get_clock(), settings=get_settings(),
                                desk=desk, files=wiring.attachments())
    logger.info("inbound mail", extra={"ses_message_id": entry.ses_message_id, "outcome": entry.outcome.value,
                                       "reason": entry.reason, "reference": entry.case_reference})
    return {"outcome": entry.outcome.value, "case_reference": entry.case_reference}
