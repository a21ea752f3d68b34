"""SES's mailbox simulator and configuration-set event publishing, locally.

In AWS, mail sent to ``bounce@simulator.amazonses.com`` bounces (permanently, 5.1.1) and mail to
``complaint@simulator.amazonses.com`` draws a complaint; SES then publishes the event to the destinations of the
configuration set the mail named. moto accepts ``ConfigurationSetName`` but publishes nothing, so this worker watches
what moto's SES sent (its server runs in this process) and, for each message to a simulator address, publishes the
event as SES shapes it (``eventType``, ``bounce`` or ``complaint``, ``mail`` with the message id SendRawEmail
returned) to the SNS topic of every ``AWS::SES::ConfigurationSetEventDestination`` of the template that takes that
event type. SNS then delivers it as its subscriptions say (the feedback queue, raw). SES publishes only where the topic's policy
lets ``ses.amazonaws.com`` publish for the configuration set (``aws:SourceArn``), as the local IAM check decides;
refused, the event is lost, as in AWS, and the runtime's log says why.

Approximated: every configuration set of the template is taken to be the one the mail named (the stack has one);
mail to other addresses is delivered, never bounced.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import Any

from amends_local.aws import client
from amends_local.iam import Authorizer
from amends_local.template import ACCOUNT_ID, PARTITION, REGION, Template
from amends_local.worker import Worker

log = logging.getLogger(__name__)

SIMULATOR = {"bounce@simulator.amazonses.com": "Bounce", "complaint@simulator.amazonses.com": "Complaint"}


def destinations(template: Template) -> list[tuple[str, frozenset[str], str]]:
    """(topic ARN, event types, configuration set ARN) of each enabled SNS event destination of the template."""
    out = []
    for rid, resource in template.resources.items():
        if resource["Type"] != "AWS::SES::ConfigurationSetEventDestination":
            continue
        props = template.resolve(resource["Properties"])
        spec = props["EventDestination"]
        topic = (spec.get("SnsDestination") or {}).get("TopicARN")
        source = f"arn:{PARTITION}:ses:{REGION}:{ACCOUNT_ID}:configuration-set/{props['ConfigurationSetName']}"
        if topic and spec.get("Enabled", False):
            out.append((topic, frozenset(t.lower() for t in spec.get("MatchingEventTypes", [])), source))
    return out


def event(kind: str, message: Any, recipient: str, at: datetime) -> dict[str, Any]:
    stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    mail = {"timestamp": stamp, "source": message.source, "sendingAccountId": ACCOUNT_ID, "messageId": message.id,
            "destination": [recipient], "headersTruncated": False}
    feedback_id = f"{uuid.uuid4().hex}-000000"
    if kind == "Bounce":
        return {"eventType": "Bounce", "mail": mail, "bounce": {
            "bounceType": "Permanent", "bounceSubType": "General", "timestamp": stamp, "feedbackId": feedback_id,
            "reportingMTA": "dns; amazonses.com", "bouncedRecipients": [{
                "emailAddress": recipient, "action": "failed", "status": "5.1.1",
                "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}}
    return {"eventType": "Complaint", "mail": mail, "complaint": {
        "complainedRecipients": [{"emailAddress": recipient}], "timestamp": stamp, "feedbackId": feedback_id,
        "complaintFeedbackType": "abuse", "userAgent": "Amazon SES Mailbox Simulator"}}


class MailboxSimulator(Worker):
    def __init__(self, template: Template, *, moto_endpoint: str, iam: Authorizer | None = None) -> None:
        super().__init__("ses-mailbox-simulator")
        self.destinations = destinations(template)
        self.iam = iam
        self.sns = client("sns", moto_endpoint)
        self._seen = 0

    def poll_once(self) -> bool:
        from moto.ses.models import ses_backends

        sent = ses_backends[ACCOUNT_ID][REGION].sent_messages
        new, self._seen = list(sent[self._seen:]), len(sent)
        published = False
        for message in new:
            for recipient in sorted({a.lower() for _, a in getaddresses(list(message.destinations)) if a}):
                kind = SIMULATOR.get(recipient)
                if kind is None:
                    continue
                body = json.dumps(event(kind, message, recipient, datetime.now(UTC)))
                for topic, types, source in self.destinations:
                    if kind.lower() not in types:
                        continue
                    refusal = self.iam and self.iam.refusal_for_service("ses.amazonaws.com", "sns:Publish", topic,
                                                                        source)
                    if refusal:
                        log.error("SES could not publish a %s event to %s (lost, as in AWS): %s", kind, topic, refusal)
                        continue
                    self.sns.publish(TopicArn=topic, Message=body)
                    published = True
        return published or bool(new)
