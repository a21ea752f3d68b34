"""EventBridge delivery to Lambda functions, state machines and queues, as EventBridge does it.

moto delivers a matched event only to SQS, log group, archive, bus and API-destination targets, and to a queue
whatever its policy says. Provisioning points Lambda, Step Functions and SQS targets at a local bridge queue
instead (see ``provision.bridge_for``); this poller takes events from each bridge queue and delivers them as
EventBridge would, Input/InputPath applied:

* a state machine: StartExecution with the event as input;
* a function: an asynchronous invocation (``async_invoke``). Once Lambda has accepted the event, EventBridge's
  part is done: a function *error* is Lambda's to retry and dead-letter (EventInvokeConfig, DeadLetterQueue),
  never the rule's.
* an API destination (a webhook): an HTTPS request as ``api_destinations`` makes it, once the target's role
  (``RoleArn``) is allowed ``events:InvokeApiDestination`` on it; a 4xx other than 401, 407, 409 and 429 is not
  retried;
* a queue: SendMessage as ``events.amazonaws.com``, which the queue's policy must allow for this rule
  (``aws:SourceArn``), and an encrypted queue's key policy must let encrypt (``iam.refusal_for_service``).
  Refused, the event is not retried: it goes straight to the dead-letter queue with ``ERROR_CODE``
  ``NO_PERMISSIONS``, as EventBridge does (the same policy check applies to the dead-letter queue itself).

A failed delivery (the state machine or function does not exist, StartExecution fails) is retried per the
target's RetryPolicy (MaximumRetryAttempts, default 185; MaximumEventAgeInSeconds, default 86400) with short
back-off; when retries run out the event goes to the target's DeadLetterConfig queue with EventBridge's
message attributes (RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE), or, without one, is logged as dropped.

Approximated: back-off is fractions of a second, not EventBridge's minutes.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from amends_local.api_destinations import Caller
from amends_local.async_invoke import invoke_async
from amends_local.aws import client
from amends_local.iam import Authorizer
from amends_local.lambdas import FunctionRegistry
from amends_local.provision import Bridge, bridge_for
from amends_local.template import ACCOUNT_ID, Rule, RuleTarget
from amends_local.worker import Worker

log = logging.getLogger(__name__)


def queue_url(moto_endpoint: str, queue_arn: str) -> str:
    return f"{moto_endpoint}/{ACCOUNT_ID}/{queue_arn.rsplit(':', 1)[1]}"


def dispatch(rule: Rule, event: dict[str, Any], *, moto_endpoint: str) -> None:
    """Hand an event (a scheduled one: moto does not fire schedules) to each of a rule's targets."""
    sqs = client("sqs", moto_endpoint)
    for target in rule.targets:
        bridge = bridge_for(rule, target)
        if bridge is not None:  # delivered, with retries, by the EventBridgeBridge worker
            sqs.send_message(
                QueueUrl=queue_url(moto_endpoint, bridge.queue_arn), MessageBody=json.dumps(event)
            )
        elif target.service == "events":
            client("events", moto_endpoint).put_events(
                Entries=[
                    {
                        "Source": event["source"],
                        "DetailType": event["detail-type"],
                        "Detail": json.dumps(event["detail"]),
                        "Resources": event.get("resources", []),
                        "EventBusName": target.arn,
                    }
                ]
            )
        else:
            log.error(
                "rule %s: target %s (%s) is not emulated; event not delivered: %s",
                rule.name,
                target.id,
                target.arn,
                json.dumps(event),
            )


def target_input(target: RuleTarget, event: dict[str, Any]) -> Any:
    """What the target receives: the constant Input, the part InputPath selects, or the event."""
    if target.input is not None:
        return json.loads(target.input)
    if target.input_path:
        value: Any = event
        for part in target.input_path.removeprefix("$").strip(".").split("."):
            if part:
                value = value[part]
        return value
    return event


class ResourceNotFoundException(Exception):
    """The target does not exist (EventBridge's error code for it)."""


class NoPermissions(Exception):
    """A policy does not let EventBridge deliver to the target: not retried."""

    code = "NO_PERMISSIONS"  # the ERROR_CODE EventBridge gives the dead-letter message
    retried = False


class EventBridgeBridge(Worker):
    def __init__(self, bridge: Bridge, *, registry: FunctionRegistry, moto_endpoint: str,
                 iam: Authorizer | None = None, api_destinations: dict[str, Caller] | None = None) -> None:
        super().__init__(f"rule:{bridge.rule.name}->{bridge.target.id}")
        self.bridge = bridge
        self.registry = registry
        self.moto_endpoint = moto_endpoint
        self.iam = iam
        self.sqs = client("sqs", moto_endpoint)
        self.sfn = client("stepfunctions", moto_endpoint)
        self.url = queue_url(moto_endpoint, bridge.queue_arn)
        self.caller = (api_destinations or {}).get(bridge.target.arn)
        policy = bridge.target.retry_policy
        self.max_retries = int(policy.get("MaximumRetryAttempts", 185))
        self.max_age = int(policy.get("MaximumEventAgeInSeconds", 86400))

    def poll_once(self) -> bool:
        messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        for message in messages:
            if self.stopping:
                return True  # left in the bridge queue
            event = json.loads(message["Body"])
            event.pop("ingestion-time", None)  # moto's bookkeeping, not part of an EventBridge event
            event.setdefault("account", ACCOUNT_ID)  # moto leaves it out of events it sends to queues
            if self._deliver_with_retries(event):
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return bool(messages)

    def _deliver_with_retries(self, event: dict[str, Any]) -> bool:
        """True when the event is settled (delivered, dead-lettered or dropped); False to leave it queued."""
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                self._deliver(target_input(self.bridge.target, event))
                return True
            except Exception as error:  # noqa: BLE001 - any failure to deliver is retried, then dead-lettered
                attempt += 1
                # EventBridge does not retry what a policy refuses, nor an endpoint's plain 4xx
                final = getattr(error, "retried", True) is False
                code, message = getattr(error, "code", None) or type(error).__name__, str(error)
                log.warning("%s: delivery attempt %d failed: %s: %s", self.name, attempt, code, message)
            if final or attempt > self.max_retries or time.monotonic() - started > self.max_age:
                self._dead_letter(event, code, message)
                return True
            if not self.sleep(min(0.05 * 2**attempt, 1.0)):
                return False

    def _deliver(self, payload: Any) -> None:
        target = self.bridge.target
        if target.service == "states":
            execution = self.sfn.start_execution(
                stateMachineArn=target.arn, name=str(uuid.uuid4()), input=json.dumps(payload)
            )
            log.info("%s: started %s", self.name, execution["executionArn"])
        elif target.service == "lambda":
            try:
                logical_id = self.registry.logical_id_for(target.arn)
            except KeyError:
                raise ResourceNotFoundException(f"Function not found: {target.arn}") from None
            invoke_async(
                self.registry, logical_id, payload, moto_endpoint=self.moto_endpoint, stopping=self._stop
            )
        elif target.service == "sqs":
            self._send_as_eventbridge(target.arn, MessageBody=json.dumps(payload))
        elif target.is_api_destination:
            if self.caller is None:
                raise ResourceNotFoundException(f"API destination not found: {target.arn}")
            refusal = self.iam and self.iam.refusal_for_role(target.role_arn, "events:InvokeApiDestination",
                                                             target.arn)
            if refusal:
                raise NoPermissions(refusal)
            status = self.caller.call(payload)
            log.info("%s: %s answered %d", self.name, self.caller.destination.endpoint, status)
        else:
            raise NotImplementedError(f"bridged target service {target.service}")

    def _send_as_eventbridge(self, queue_arn: str, **message: Any) -> None:
        """SendMessage as events.amazonaws.com on behalf of this rule: only where the queue's policy allows it."""
        refusal = self.iam and self.iam.refusal_for_service("events.amazonaws.com", "sqs:SendMessage", queue_arn,
                                                            self.bridge.rule.arn)
        if refusal:
            raise NoPermissions(refusal)
        self.sqs.send_message(QueueUrl=queue_url(self.moto_endpoint, queue_arn), **message)

    def _dead_letter(self, event: dict[str, Any], code: str, message: str) -> None:
        target = self.bridge.target
        if target.dead_letter_arn is None:
            log.error(
                "%s: retries exhausted (%s: %s) and no DeadLetterConfig: event dropped: %s",
                self.name,
                code,
                message,
                json.dumps(event),
            )
            return
        attributes = {
            "RULE_ARN": self.bridge.rule.arn,
            "TARGET_ARN": target.arn,
            "ERROR_CODE": code,
            "ERROR_MESSAGE": message[:1000] or code,
        }
        try:
            self._send_as_eventbridge(
                target.dead_letter_arn,
                MessageBody=json.dumps(event),
                MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
            )
        except NoPermissions as refused:  # EventBridge's InvocationsFailedToBeSentToDLQ: the event is lost
            log.error("%s: retries exhausted (%s: %s) and the dead-letter queue refused the event (%s): dropped: %s",
                      self.name, code, message, refused, json.dumps(event))
            return
        log.error(
            "%s: retries exhausted (%s: %s); event sent to %s",
            self.name,
            code,
            message,
            target.dead_letter_arn,
        )
