"""SES email receiving, locally: an SMTP listener (aiosmtpd) on 127.0.0.1 that applies the template's receipt rules.

In AWS, SES accepts mail for the recipients of the active rule set's rules and runs each matching rule's actions in
order. Here, for each message received over SMTP:

* ``RCPT TO`` an address no enabled ``AWS::SES::ReceiptRule`` takes is refused (550), as SES refuses mail for
  recipients it has no rule for;
* each rule whose recipients match runs its actions in order: ``S3Action`` stores the raw message (with the headers
  SES prepends: ``Return-Path``, ``Received``, ``X-SES-Spam-Verdict``, ``X-SES-Virus-Verdict``) as
  ``<ObjectKeyPrefix><SES message id>`` in moto's bucket, if the bucket's policy lets ``ses.amazonaws.com`` write it
  for this rule (``aws:SourceArn``, ``aws:SourceAccount``); ``LambdaAction`` invokes the function with the event SES
  sends (``Records[0].ses.{mail, receipt}``), if its ``AWS::Lambda::Permission`` lets SES invoke it for this rule:
  ``InvocationType: Event`` through Lambda's asynchronous invocation (retries, then the function's failure
  destination), ``RequestResponse`` synchronously; ``StopAction`` ends the rules. Other actions are logged, not
  emulated.

Verdicts (spam, virus, SPF, DKIM, DMARC) are PASS locally, unless a message carries an ``X-Amends-Local-Verdicts``
header (``spam=FAIL, dmarc=FAIL, dmarcPolicy=reject``; read, then left out of what is stored, since it never exists
in AWS) or ``AMENDS_SMTP_VERDICTS`` sets them for every message in the same form.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import logging
import os
import secrets
import threading
from datetime import UTC, datetime
from typing import Any

from amends_local.async_invoke import invoke_async
from amends_local.aws import client
from amends_local.clock import RuntimeClock
from amends_local.iam import Authorizer
from amends_local.lambdas import FunctionRegistry
from amends_local.ports import LOOPBACK
from amends_local.template import ReceiptRule, Template

log = logging.getLogger(__name__)

VERDICTS_HEADER = "X-Amends-Local-Verdicts"
VERDICT_NAMES = {"spam": "spamVerdict", "virus": "virusVerdict", "spf": "spfVerdict", "dkim": "dkimVerdict",
                 "dmarc": "dmarcVerdict"}
VERDICT_VALUES = ("PASS", "FAIL", "GRAY", "PROCESSING_FAILED")
MAX_MESSAGE_BYTES = 40 * 1024 * 1024  # SES's limit for a message stored by an S3 action, headers included
COMMON_HEADERS = {"from": "From", "to": "To", "cc": "Cc", "bcc": "Bcc", "sender": "Sender", "replyTo": "Reply-To"}


class SesReceiving:
    """The handler aiosmtpd calls; ``deliver`` is SES's receipt-rule processing of one message."""

    def __init__(self, template: Template, *, registry: FunctionRegistry, moto_endpoint: str,
                 iam: Authorizer | None, clock: RuntimeClock) -> None:
        self.rules = [r for r in template.receipt_rules() if r.enabled]
        self.functions = {fn.arn: rid for rid, fn in template.functions().items()}
        self.registry = registry
        self.moto_endpoint = moto_endpoint
        self.iam = iam
        self.clock = clock
        self.stopping = threading.Event()
        self.pending: set[threading.Thread] = set()
        self._lock = threading.Lock()

    # ---- aiosmtpd's hooks ----------------------------------------------------------------------------------
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if not any(rule.matches(address) for rule in self.rules):
            return f"550 5.1.1 <{address}>: no receipt rule of the template takes this recipient (InboundRecipients)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        try:
            message_id = self.deliver(raw, mail_from=envelope.mail_from or "", recipients=list(envelope.rcpt_tos),
                                      client_ip=(session.peer or ("127.0.0.1",))[0])
        except DeliveryRefused as why:
            return f"451 4.3.0 {why}"
        return f"250 Ok {message_id}"

    # ---- SES ---------------------------------------------------------------------------------------------------
    def deliver(self, raw: bytes, *, mail_from: str, recipients: list[str], client_ip: str = "127.0.0.1") -> str:
        """Run the matching rules' actions on one message; returns SES's message id."""
        message_id = secrets.token_hex(20)  # SES's ids are 40 lower-case characters too
        verdicts, raw = _verdicts(raw)
        now = self.clock.now().astimezone(UTC)
        stored = _ses_headers(mail_from, recipients, client_ip, verdicts, now) + raw
        for rule in self.rules:
            matched = [r for r in recipients if rule.matches(r)]
            if not matched:
                continue
            for action in rule.actions:
                if action.kind == "S3Action":
                    self._store(rule, action.spec, message_id, stored)
                elif action.kind == "LambdaAction":
                    event = ses_event(stored, message_id=message_id, mail_from=mail_from, recipients=matched,
                                      verdicts=verdicts, rule=rule, function_arn=action.spec["FunctionArn"],
                                      invocation_type=action.spec.get("InvocationType", "Event"), at=now)
                    self._invoke(rule, action.spec, event)
                elif action.kind == "StopAction":
                    return message_id
                else:
                    log.warning("SES receipt rule %s: %s is not emulated locally; skipped", rule.name, action.kind)
        return message_id

    def _store(self, rule: ReceiptRule, spec: dict[str, Any], message_id: str, raw: bytes) -> None:
        bucket, key = spec["BucketName"], f"{spec.get('ObjectKeyPrefix', '')}{message_id}"
        self._allowed(rule, "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}")
        client("s3", self.moto_endpoint).put_object(Bucket=bucket, Key=key, Body=raw)
        log.info("SES rule %s: raw message stored as s3://%s/%s", rule.name, bucket, key)

    def _invoke(self, rule: ReceiptRule, spec: dict[str, Any], event: dict[str, Any]) -> None:
        arn = spec["FunctionArn"]
        logical_id = self.functions.get(arn)
        if logical_id is None:
            raise DeliveryRefused(f"receipt rule {rule.name}: {arn} is not a function of the template")
        self._allowed(rule, "lambda:InvokeFunction", arn)
        if spec.get("InvocationType", "Event") == "RequestResponse":
            self.registry.invoke(logical_id, event)
            return
        thread = threading.Thread(target=self._run_async, args=(logical_id, event), daemon=True,
                                  name=f"ses-{logical_id}")
        with self._lock:
            self.pending.add(thread)
        thread.start()

    def _run_async(self, logical_id: str, event: dict[str, Any]) -> None:
        try:
            invoke_async(self.registry, logical_id, event, moto_endpoint=self.moto_endpoint, stopping=self.stopping)
        finally:
            with self._lock:
                self.pending.discard(threading.current_thread())

    def _allowed(self, rule: ReceiptRule, action: str, resource: str) -> None:
        if self.iam is None:
            return
        why = self.iam.refusal_for_service("ses.amazonaws.com", action, resource, rule.arn)
        if why is not None:
            log.error("SES receipt rule %s refused: %s", rule.name, why)
            raise DeliveryRefused(f"SES may not do this for rule {rule.name}: {why}")

    def busy(self) -> bool:
        with self._lock:
            return bool(self.pending)


class DeliveryRefused(Exception):
    """An action of the rule is not allowed (bucket policy, Lambda permission): the sender is told to retry."""


class SmtpListener:
    """aiosmtpd's controller around ``SesReceiving``, on 127.0.0.1 only."""

    def __init__(self, receiving: SesReceiving, *, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.receiving = receiving
        self.port = port
        self._controller = Controller(receiving, hostname=LOOPBACK, port=port, data_size_limit=MAX_MESSAGE_BYTES,
                                      enable_SMTPUTF8=True, server_hostname="inbound-smtp.local")

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self.receiving.stopping.set()
        self._controller.stop()

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"


# ---- the event SES sends for a receipt rule ---------------------------------------------------------------------
def ses_event(raw: bytes, *, message_id: str, mail_from: str, recipients: list[str], verdicts: dict[str, str],
              rule: ReceiptRule, function_arn: str, invocation_type: str, at: datetime) -> dict[str, Any]:
    """``{"Records": [{"eventSource": "aws:ses", "ses": {"mail": ..., "receipt": ...}}]}`` as SES shapes it."""
    timestamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    headers, common = _headers(raw)
    common = {"returnPath": mail_from, **common}
    receipt: dict[str, Any] = {
        "timestamp": timestamp, "processingTimeMillis": 10, "recipients": recipients,
        **{VERDICT_NAMES[name]: {"status": verdicts.get(name, "PASS")} for name in VERDICT_NAMES},
        "action": {"type": "Lambda", "functionArn": function_arn, "invocationType": invocation_type},
    }
    if verdicts.get("dmarc", "PASS") == "FAIL":  # SES adds the sender domain's policy when DMARC failed
        receipt["dmarcPolicy"] = verdicts.get("dmarcPolicy", "none")
    return {"Records": [{"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {
        "mail": {"timestamp": timestamp, "source": mail_from, "messageId": message_id, "destination": recipients,
                 "headersTruncated": False, "headers": headers, "commonHeaders": common},
        "receipt": receipt}}]}


def _headers(raw: bytes) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The message's headers as SES lists them, and its commonHeaders; whatever the bytes, never an error."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        pairs = [(name, str(value)) for name, value in message.items()]
    except Exception:  # noqa: BLE001 - SES hands over what it can parse; so do we
        pairs = []
    headers = [{"name": n, "value": v} for n, v in pairs]
    common: dict[str, Any] = {}
    for key, name in COMMON_HEADERS.items():
        values = [v for n, v in pairs if n.lower() == name.lower()]
        if values:
            common[key] = [a for v in values for a in (x.strip() for x in v.split(",")) if a]
    for key, name in (("date", "Date"), ("messageId", "Message-ID"), ("subject", "Subject")):
        value = next((v for n, v in pairs if n.lower() == name.lower()), None)
        if value is not None:
            common[key] = value
    return headers, common


def _verdicts(raw: bytes) -> tuple[dict[str, str], bytes]:
    """The verdicts to report (AMENDS_SMTP_VERDICTS, then the message's own header), and the message without it."""
    verdicts = _parse_verdicts(os.environ.get("AMENDS_SMTP_VERDICTS", ""))
    head, sep, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    kept, found = [], None
    lines = head.splitlines(keepends=True)
    for line in lines:
        if line.lower().startswith(VERDICTS_HEADER.lower().encode() + b":"):
            found = line.split(b":", 1)[1].decode("ascii", "replace")
        else:
            kept.append(line)
    if found is None:
        return verdicts, raw
    verdicts.update(_parse_verdicts(found))
    return verdicts, b"".join(kept) + sep + body


def _parse_verdicts(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.replace(";", ",").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip() == "dmarcPolicy":
            out["dmarcPolicy"] = value.strip().lower()
        elif name.strip().lower() in VERDICT_NAMES and value.strip().upper() in VERDICT_VALUES:
            out[name.strip().lower()] = value.strip().upper()
        elif part.strip():
            log.warning("%s: %r is not name=VALUE with a name of %s and a value of %s", VERDICTS_HEADER, part,
                        ", ".join(VERDICT_NAMES), ", ".join(VERDICT_VALUES))
    return out


def _ses_headers(mail_from: str, recipients: list[str], client_ip: str, verdicts: dict[str, str],
                 at: datetime) -> bytes:
    """What SES prepends to the message it stores."""
    date = email.utils.format_datetime(at)
    lines = [
        f"Return-Path: <{mail_from}>",
        f"Received: from [{client_ip}] by inbound-smtp.local with SMTP id local for {recipients[0] if recipients else ''};"
        f" {date}",
        f"X-SES-Spam-Verdict: {verdicts.get('spam', 'PASS')}",
        f"X-SES-Virus-Verdict: {verdicts.get('virus', 'PASS')}",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8", "replace")

