"""Create, in the emulators, every resource template.yaml declares; idempotent (a restart keeps what exists).

DynamoDB tables go to DynamoDB Local (or moto); everything else to moto. One thing is local-only: moto's
EventBridge delivers to SQS, log group, archive, bus and API-destination targets, raises for any other, and puts
into a queue whatever the queue's policy says. A rule target that is a Lambda function, a state machine or a queue
therefore gets a *bridge queue*, and so does an API destination (moto sends it nothing), (``amends-bridge-<Rule>-<Target>``) as its moto target; ``eventbridge_bridge``
delivers from it with EventBridge's semantics, a queue only where its policy lets EventBridge in.

SES: only the identities a deployment could send from are verified (``verified_identities``). ``provision``
returns what it did to each resource, by logical id, including what it leaves to other parts of the runtime and
why.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import zipfile
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from amends_local.aws import client, error_code
from amends_local.template import ACCOUNT_ID, REGION, STACK_NAME, Rule, RuleTarget, Template

log = logging.getLogger(__name__)

FAKE_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/{STACK_NAME}-local"
BRIDGED_SERVICES = ("lambda", "states", "sqs")

# Resources the runtime provides another way; provision() reports these reasons for them.
PROVIDED_ELSEWHERE = {
    "AWS::Serverless::LayerVersion": "the layer's code is installed in the project's environment (uv sync)",
    "AWS::Serverless::Api": "served by the local gateway (amends_local.gateway)",
    "AWS::ApiGateway::GatewayResponse": "rendered by the local gateway from the template",
    "AWS::Cognito::UserPoolClient": "the local gateway's identity provider issues and checks staff tokens",
    "AWS::Cognito::UserPoolGroup": "created with its user pool (amends_local.user_pool); a claim in the local tokens",
    "AWS::SES::ReceiptRuleSet": "the local SMTP listener (amends_local.smtp) receives mail as its rules say",
    "AWS::SES::ReceiptRule": "applied by the local SMTP listener (amends_local.smtp): S3 action, then Lambda action",
    "AWS::Lambda::Permission": "checked by the local SMTP listener before it invokes for SES (amends_local.smtp)",
    "AWS::SNS::TopicPolicy": "read by the local IAM check when a service publishes to the topic (amends_local.iam)",
    "AWS::Events::ApiDestination": "called by the rules' bridges as EventBridge calls it (amends_local.api_destinations)",
    "AWS::Events::Connection": "its authorization is added to each API destination call (amends_local.api_destinations)",
}

# Resources with no local meaning; provision() reports these reasons for them.
ACCOUNTED_FOR = {
    "AWS::KMS::Key": "not needed locally: queues, topics and log groups record the key's id (Ref/GetAtt resolve to "
    "a fixed local id) and the emulators keep data unencrypted",
    "AWS::KMS::Alias": "names the KMS key, which is not needed locally",
    "AWS::IAM::Role": "not created: the local IAM check (amends_local.iam) reads the roles SAM generates for the "
    "functions, and the roles rule targets give EventBridge",
    "AWS::ApiGateway::Account": "account-level API Gateway setting; the local gateway writes no CloudWatch logs",
    "AWS::CloudFormation::WaitConditionHandle": "orders resources during a CloudFormation deployment only",
}


@dataclass(frozen=True)
class Bridge:
    """A rule target moto cannot deliver to, and the local queue standing in for it."""

    rule: Rule
    target: RuleTarget
    queue_name: str

    @property
    def queue_arn(self) -> str:
        return f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{self.queue_name}"


def bridge_for(rule: Rule, target: RuleTarget) -> Bridge | None:
    if target.service not in BRIDGED_SERVICES and not target.is_api_destination:
        return None
    name = f"{STACK_NAME}-bridge-{rule.logical_id}-{target.id}"
    if len(name) > 80:
        name = f"{name[:71]}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
    return Bridge(rule, target, name)


def bridges(template: Template) -> list[Bridge]:
    return [b for rule in template.rules().values() for t in rule.targets if (b := bridge_for(rule, t))]


class Provisioner:
    def __init__(self, template: Template, *, dynamodb_endpoint: str, moto_endpoint: str) -> None:
        self.t = template
        self.dynamodb = client("dynamodb", dynamodb_endpoint)
        self.moto_endpoint = moto_endpoint
        self.report: dict[str, str] = {}

    def _moto(self, service: str) -> Any:
        return client(service, self.moto_endpoint)

    def provision(self) -> dict[str, str]:
        """Everything, in dependency order; returns logical id → what was done."""
        self.tables()
        self.queues()
        self.log_groups()
        self.topics()
        self.event_buses()
        self.archives()
        self.functions()
        self.state_machines()
        self.rules()
        self.queue_policies()
        self.alarms()
        self.ses_identity()
        self.buckets()
        for rid, resource in self.t.resources.items():
            if rid not in self.report:
                kind = resource["Type"]
                self.report[rid] = PROVIDED_ELSEWHERE.get(kind) or ACCOUNTED_FOR.get(kind, f"not emulated ({kind})")
        return self.report

    # ---- DynamoDB ------------------------------------------------------------------------------------------
    def tables(self) -> None:
        existing = set(_all_tables(self.dynamodb))
        for rid, table in self.t.tables().items():
            p = table.properties
            if not 3 <= len(table.name) <= 255:
                raise ValueError(f"{rid}: DynamoDB table names have 3 to 255 characters, not {table.name!r}")
            if table.name in existing:
                self.report[rid] = f"kept existing table {table.name}"
                continue
            args: dict[str, Any] = {
                "TableName": table.name,
                "KeySchema": p["KeySchema"],
                "AttributeDefinitions": p["AttributeDefinitions"],
                "BillingMode": p.get("BillingMode", "PROVISIONED"),
            }
            if args["BillingMode"] == "PROVISIONED":
                args["ProvisionedThroughput"] = _throughput(p.get("ProvisionedThroughput"))
            for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
                if p.get(key):
                    args[key] = [_index(i, args["BillingMode"]) for i in p[key]]
            if p.get("StreamSpecification"):
                args["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
            if p.get("SSESpecification"):
                args["SSESpecification"] = _sse(p["SSESpecification"])
            self.dynamodb.create_table(**args)
            self.dynamodb.get_waiter("table_exists").wait(TableName=table.name, WaiterConfig={"Delay": 0.2})
            ttl = p.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                self.dynamodb.update_time_to_live(TableName=table.name, TimeToLiveSpecification=ttl)
            if "PointInTimeRecoverySpecification" in p:
                log.debug("%s: PointInTimeRecoverySpecification has no local meaning; ignored", rid)
            self.report[rid] = f"created table {table.name}"

    # ---- SQS -----------------------------------------------------------------------------------------------
    def queues(self) -> None:
        sqs = self._moto("sqs")
        queues = self.t.queues()
        by_arn = {q.arn: q for q in queues.values()}
        # A dead-letter queue must exist before a queue naming it (moto checks the ARN at creation).
        ordered = sorted(queues.values(), key=lambda q: 1 if q.redrive_policy else 0)
        for queue in ordered:
            attributes = {
                k: _attr(v)
                for k, v in queue.properties.items()
                if k
                in (
                    "VisibilityTimeout",
                    "MessageRetentionPeriod",
                    "DelaySeconds",
                    "MaximumMessageSize",
                    "ReceiveMessageWaitTimeSeconds",
                    "FifoQueue",
                    "ContentBasedDeduplication",
                    "SqsManagedSseEnabled",
                    "KmsMasterKeyId",
                    "KmsDataKeyReusePeriodSeconds",
                )
            }
            if queue.redrive_policy:
                if queue.redrive_policy["deadLetterTargetArn"] not in by_arn:
                    raise ValueError(
                        f"{queue.logical_id}: dead-letter queue {queue.redrive_policy} is not in the template"
                    )
                attributes["RedrivePolicy"] = json.dumps(queue.redrive_policy)
            sqs.create_queue(QueueName=queue.name, Attributes=attributes)
            self.report[queue.logical_id] = f"queue {queue.name}"
        for bridge in bridges(self.t):
            sqs.create_queue(QueueName=bridge.queue_name, Attributes={"VisibilityTimeout": "60"})

    def queue_policies(self) -> None:
        sqs = self._moto("sqs")
        for rid, res in self.t.resources.items():
            if res["Type"] != "AWS::SQS::QueuePolicy":
                continue
            props = self.t.resolve(res["Properties"])
            for url in props["Queues"]:
                sqs.set_queue_attributes(
                    QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])}
                )
            self.report[rid] = "queue policy set (EventBridge's deliveries are checked against it)"

    # ---- EventBridge ---------------------------------------------------------------------------------------
    def event_buses(self) -> None:
        events = self._moto("events")
        for rid, bus in self.t.event_buses().items():
            _create(events.create_event_bus, "ResourceAlreadyExistsException", Name=bus.name)
            self.report[rid] = f"event bus {bus.name}"

    def archives(self) -> None:
        events = self._moto("events")
        for rid, archive in self.t.archives().items():
            args = {
                "ArchiveName": archive.name,
                "EventSourceArn": archive.source_arn,
                "Description": archive.description,
            }
            if archive.event_pattern:
                args["EventPattern"] = json.dumps(archive.event_pattern)
            if archive.retention_days is not None:
                args["RetentionDays"] = int(archive.retention_days)
            _create(events.create_archive, "ResourceAlreadyExistsException", **args)
            self.report[rid] = f"archive {archive.name}"

    def rules(self) -> None:
        """Rules with their targets; Lambda and Step Functions targets point at their bridge queue instead."""
        events = self._moto("events")
        for rid, rule in self.t.rules().items():
            args: dict[str, Any] = {
                "Name": rule.name,
                "EventBusName": rule.bus_name,
                "State": "ENABLED" if rule.enabled else "DISABLED",
                "Description": rule.description,
            }
            if rule.event_pattern is not None:
                args["EventPattern"] = json.dumps(rule.event_pattern)
            if rule.schedule:
                args["ScheduleExpression"] = rule.schedule
            events.put_rule(**args)
            targets = []
            for target in rule.targets:
                if target.input_transformer is not None and target.service in BRIDGED_SERVICES:
                    raise NotImplementedError(
                        f"{rid}: InputTransformer on a {target.service} target is not emulated"
                    )
                bridge = bridge_for(rule, target)
                entry: dict[str, Any] = {"Id": target.id, "Arn": bridge.queue_arn if bridge else target.arn}
                if bridge is None:
                    entry.update(
                        {
                            k: v
                            for k, v in (
                                ("Input", target.input),
                                ("InputPath", target.input_path),
                                ("InputTransformer", target.input_transformer),
                            )
                            if v
                        }
                    )
                targets.append(entry)
            if targets:
                events.put_targets(Rule=rule.name, EventBusName=rule.bus_name, Targets=targets)
            how = "schedule fired by the local scheduler" if rule.schedule else "pattern matched by moto"
            self.report[rid] = f"rule {rule.name} ({how})"

    # ---- Lambda & Step Functions ---------------------------------------------------------------------------
    def execution_role(self) -> None:
        """One role for every function and state machine: moto checks a role exists; it enforces no policy."""
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {
                        "Service": ["lambda.amazonaws.com", "states.amazonaws.com", "events.amazonaws.com"]
                    },
                }
            ],
        }
        _create(self._moto("iam").create_role, "EntityAlreadyExists",
                RoleName=FAKE_ROLE.rsplit("/", 1)[1], AssumeRolePolicyDocument=json.dumps(trust))

    def functions(self) -> None:
        """Function records in moto, so Step Functions tasks and rules resolve them; the code runs in the
        runtime's execution environments (lambdas.py)."""
        self.execution_role()
        lam = self._moto("lambda")
        code = _dummy_zip()
        for rid, fn in self.t.functions().items():
            _create(lam.create_function, "ResourceConflictException",
                    FunctionName=fn.name, Runtime=fn.runtime, Role=FAKE_ROLE, Handler=fn.handler,
                    Code={"ZipFile": code}, Timeout=fn.timeout, MemorySize=fn.memory_size,
                    Environment={"Variables": fn.environment})
            self.report[rid] = f"function {fn.name} (runs locally from {fn.code_uri})"

    def state_machines(self) -> None:
        sfn = self._moto("stepfunctions")
        for rid, machine in self.t.state_machines().items():
            try:
                sfn.create_state_machine(
                    name=machine.name, definition=machine.definition, roleArn=FAKE_ROLE, type=machine.type
                )
            except ClientError as error:
                if error_code(error) not in ("StateMachineAlreadyExists",):
                    raise
                sfn.update_state_machine(stateMachineArn=machine.arn, definition=machine.definition)
            self.report[rid] = f"state machine {machine.name}"

    # ---- the rest: logs, SNS, alarms, SES ------------------------------------------------------------------
    def log_groups(self) -> None:
        logs = self._moto("logs")
        for rid, res in self.t.resources.items():
            if res["Type"] != "AWS::Logs::LogGroup":
                continue
            name = self.t.physical_name(rid)
            props = self.t.resolve(res.get("Properties", {}))
            key = {"kmsKeyId": props["KmsKeyId"]} if props.get("KmsKeyId") else {}
            _create(logs.create_log_group, "ResourceAlreadyExistsException", logGroupName=name, **key)
            days = props.get("RetentionInDays")
            if days:
                logs.put_retention_policy(logGroupName=name, retentionInDays=int(days))
            self.report[rid] = f"log group {name} (handlers log to this process's stderr)"

    def topics(self) -> None:
        sns = self._moto("sns")
        for rid, res in self.t.resources.items():
            if res["Type"] == "AWS::SNS::Topic":
                key = self.t.resolve(res.get("Properties", {}).get("KmsMasterKeyId"))
                sns.create_topic(Name=self.t.physical_name(rid), Attributes={"KmsMasterKeyId": key} if key else {})
                self.report[rid] = f"topic {self.t.physical_name(rid)}"
        for rid, res in self.t.resources.items():
            if res["Type"] == "AWS::SNS::Subscription":
                p = self.t.resolve(res["Properties"])
                raw = {"RawMessageDelivery": "true"} if str(p.get("RawMessageDelivery", "")).lower() == "true" else {}
                sns.subscribe(TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"], Attributes=raw)
                self.report[rid] = f"subscription {p['Protocol']}:{p['Endpoint']}" + (" (raw)" if raw else "")

    def alarms(self) -> None:
        cloudwatch = self._moto("cloudwatch")
        keys = (
            "AlarmDescription",
            "Namespace",
            "MetricName",
            "Dimensions",
            "Statistic",
            "Period",
            "EvaluationPeriods",
            "Threshold",
            "ComparisonOperator",
            "TreatMissingData",
            "AlarmActions",
            "OKActions",
            "DatapointsToAlarm",
            "Unit",
            "ExtendedStatistic",
            "InsufficientDataActions",
        )
        numbers = {"Period", "EvaluationPeriods", "DatapointsToAlarm"}
        for rid, res in self.t.resources.items():
            if res["Type"] != "AWS::CloudWatch::Alarm":
                continue
            p = self.t.resolve(res["Properties"])
            args = {
                k: (int(p[k]) if k in numbers else float(p[k]) if k == "Threshold" else p[k])
                for k in keys
                if k in p
            }
            cloudwatch.put_metric_alarm(AlarmName=self.t.physical_name(rid), **args)
            self.report[rid] = f"alarm {self.t.physical_name(rid)} (no metrics are emitted locally)"

    def ses_identity(self) -> None:
        ses = self._moto("ses")
        for identity in sorted(verified_identities(self.t)):
            if "@" in identity:
                ses.verify_email_identity(EmailAddress=identity)
            else:
                ses.verify_domain_identity(Domain=identity)
            log.debug("SES identity %s verified", identity)
        for rid, resource in self.t.resources.items():
            if resource["Type"] == "AWS::SES::EmailIdentity":
                self.report[rid] = "SES identity verified (in AWS: once its DNS records or link are confirmed)"
            elif resource["Type"] == "AWS::SES::ConfigurationSet":
                name = self.t.physical_name(rid)
                _create(lambda **kw: ses.create_configuration_set(ConfigurationSet=kw), "ConfigurationSetAlreadyExists",
                        Name=name)
                self.report[rid] = f"configuration set {name} (its events come from amends_local.ses_feedback)"
            elif resource["Type"] == "AWS::SES::ConfigurationSetEventDestination":
                self.report[rid] = "published by the local mailbox simulator (amends_local.ses_feedback)"


    def buckets(self) -> None:
        """Buckets in moto's S3, with their policy (the local SMTP listener checks SES's writes against it)."""
        s3 = self._moto("s3")
        for rid, resource in self.t.resources.items():
            if resource["Type"] != "AWS::S3::Bucket":
                continue
            name = self.t.physical_name(rid)
            _create(s3.create_bucket, "BucketAlreadyOwnedByYou", Bucket=name,
                    CreateBucketConfiguration={"LocationConstraint": REGION})
            self.report[rid] = f"bucket {name} (encryption, public access block and lifecycle rules are not emulated)"
        for rid, resource in self.t.resources.items():
            if resource["Type"] == "AWS::S3::BucketPolicy":
                props = self.t.resolve(resource["Properties"])
                self.report[rid] = f"bucket policy of {props['Bucket']} (checked on SES's writes and the functions' calls)"


def verified_identities(template: Template) -> frozenset[str]:
    """The SES identities a deployment of the template can send from: those it creates (``AWS::SES::EmailIdentity``)
    and those the account verified beforehand, which the template cannot say: ``AMENDS_SES_IDENTITIES``
    (comma-separated addresses or domains; empty for none) or, unset, the ``SenderAddress`` parameter, which the
    README's deployment steps have the operator verify."""
    created = {template.resolve(r["Properties"]["EmailIdentity"]) for r in template.resources.values()
               if r["Type"] == "AWS::SES::EmailIdentity"}
    configured = os.environ.get("AMENDS_SES_IDENTITIES")
    if configured is None:
        beforehand = {template.sender_address()} - {None}
    else:
        beforehand = {i.strip() for i in configured.split(",") if i.strip()}
    return frozenset(created | beforehand)  # type: ignore[arg-type]


def _create(call: Any, already_exists: str, **args: Any) -> None:
    """Create a resource, or keep it when a persistent run made it before (the AWS error code says so)."""
    try:
        call(**args)
    except ClientError as error:
        if error_code(error) != already_exists:
            raise


def _all_tables(dynamodb: Any) -> list[str]:
    return [name for page in dynamodb.get_paginator("list_tables").paginate() for name in page["TableNames"]]


def _throughput(value: dict[str, Any] | None) -> dict[str, int]:
    value = value or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    return {k: int(v) for k, v in value.items()}


def _index(index: dict[str, Any], billing_mode: str) -> dict[str, Any]:
    out = {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
    if billing_mode == "PROVISIONED" and "ProvisionedThroughput" in index:
        out["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
    return out


def _sse(spec: dict[str, Any]) -> dict[str, Any]:
    """The template's SSESpecification (SSEEnabled) in the API's shape (Enabled); the emulators only record it."""
    out: dict[str, Any] = {"Enabled": bool(spec.get("SSEEnabled"))}
    out.update({k: spec[k] for k in ("SSEType", "KMSMasterKeyId") if spec.get(k)})
    return out


def _attr(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "The local runtime runs this function's code in execution environments of its own.\n")
    return buffer.getvalue()
