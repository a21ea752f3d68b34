"""The IAM policies template.yaml gives each function, and the resource policies it sets, resolved locally.

A function's permissions are those of the execution role SAM generates for it, so SAM itself is asked: the
template goes through aws-sam-translator (the library inside `sam build`/`sam deploy`), and each function's
generated ``AWS::IAM::Role`` is read back. That role holds, exactly as a deployment creates it, the function's
``Policies`` (inline statements, and SAM policy templates such as ``DynamoDBCrudPolicy`` expanded by SAM's own
policy template processor) and what SAM adds by itself: ``AWSLambdaBasicExecutionRole``, ``AWSXrayWriteOnlyAccess``
when Tracing is on, the event sources' managed policies (``AWSLambdaSQSQueueExecutionRole``...), the
``DestinationConfig``/``EventInvokeConfig`` failure-queue statements. Intrinsics are then resolved by ``template.py``
to the local ARNs; AWS managed policies' documents come from moto's copy of them.

Resource policies: ``AWS::SQS::QueuePolicy`` (per queue), ``AWS::SNS::TopicPolicy`` (per topic) and each
``AWS::KMS::Key``'s ``KeyPolicy`` (KMS requires the key policy to allow, whatever the role says).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

from amends_local.template import ACCOUNT_ID, PARTITION, REGION, STACK_NAME, Template, TemplateError

log = logging.getLogger(__name__)

PolicyDocument = dict[str, Any]

# Local stand-ins for artifacts a deployment uploads: the translator wants S3 locations, not folders.
_UPLOADED = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
    "AWS::Serverless::Api": "DefinitionUri",
}


@dataclass(frozen=True)
class Role:
    """A function's execution role as deployed: who it is when it calls AWS, and what it may do."""

    function_id: str
    name: str
    session_arn: str  # arn:aws:sts::<account>:assumed-role/<role>/<function name>: the principal AWS names
    policies: tuple[tuple[str, PolicyDocument], ...]  # (policy name, document), every intrinsic resolved


def roles(template: Template) -> dict[str, Role]:
    """Each function's execution role, by the function's logical id; a function whose ``Role`` is not a role of
    this template is left out (its permissions live outside the template; the runtime says so when it starts)."""
    translated = translate(template)
    out: dict[str, Role] = {}
    for logical_id, fn in template.functions().items():
        role_ref = translated.get(logical_id, {}).get("Properties", {}).get("Role")
        role_id = template.referenced_id(role_ref)
        role = translated.get(role_id or "", {})
        if role.get("Type") != "AWS::IAM::Role":
            log.warning("%s: its Role (%s) is not a role of the template; its AWS calls are not checked",
                        logical_id, json.dumps(role_ref))
            continue
        props = role["Properties"]
        managed = [(arn.rsplit("/", 1)[-1], managed_policy(arn)) for arn in template.resolve(
            props.get("ManagedPolicyArns", []))]
        inline = [(p["PolicyName"], template.resolve(p["PolicyDocument"])) for p in props.get("Policies", [])]
        name = f"{STACK_NAME}-{role_id}"
        out[logical_id] = Role(logical_id, name, f"arn:{PARTITION}:sts::{ACCOUNT_ID}:assumed-role/{name}/{fn.name}",
                               tuple(managed + inline))
    return out


def role_policies(template: Template, role_arn: str) -> tuple[tuple[str, PolicyDocument], ...] | None:
    """The policies of the template's AWS::IAM::Role whose ARN is ``role_arn`` (a role a rule target names for
    EventBridge), or None when no role of the template has that ARN."""
    for logical_id, resource in template.resources.items():
        if resource["Type"] != "AWS::IAM::Role" or template.arn(logical_id) != role_arn:
            continue
        props = resource.get("Properties", {})
        managed = [(arn.rsplit("/", 1)[-1], managed_policy(arn)) for arn in template.resolve(
            props.get("ManagedPolicyArns", []))]
        inline = [(p["PolicyName"], template.resolve(p["PolicyDocument"])) for p in props.get("Policies", [])]
        return tuple(managed + inline)
    return None


def translate(template: Template) -> dict[str, dict[str, Any]]:
    """The template's resources as SAM's transform makes them for CloudFormation (intrinsics left in)."""
    return json.loads(_translated(json.dumps(template.raw), json.dumps(template.parameters)))


@cache
def _translated(raw: str, parameters: str) -> str:
    """One translation per template text and parameters (tests start many stacks of the same template)."""
    import boto3
    from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    sam = json.loads(raw)
    for resource in sam.get("Resources", {}).values():
        key = _UPLOADED.get(resource.get("Type", ""))
        if key and isinstance(resource.get("Properties", {}).get(key), str):
            resource["Properties"][key] = f"s3://local/{resource['Properties'][key]}"
    session = boto3.session.Session(region_name=REGION, aws_access_key_id="local", aws_secret_access_key="local")
    metrics = Metrics("ServerlessTransform", DummyMetricsPublisher())
    translator = Translator(None, Parser(), boto_session=session, metrics=metrics)
    samtranslator_logger = logging.getLogger("samtranslator")
    level, samtranslator_logger.level = samtranslator_logger.level, logging.ERROR  # feature-toggle chatter
    try:
        out = translator.translate(sam, parameter_values=json.loads(parameters),
                                   get_managed_policy_map=_managed_policy_arns)
    finally:
        samtranslator_logger.setLevel(level)
        metrics.publish()
    return json.dumps(out["Resources"])


@cache
def _aws_managed_policies() -> dict[str, dict[str, Any]]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)


def _managed_policy_arns() -> dict[str, str]:
    """Name → ARN of every AWS managed policy, for a template's ``Policies: [AmazonSQSReadOnlyAccess]``."""
    return {name: f"arn:{PARTITION}:iam::aws:policy{p['Path']}{name}" for name, p in _aws_managed_policies().items()}


def managed_policy(arn: str) -> PolicyDocument:
    """The document of an AWS managed policy, by ARN (moto keeps a copy of AWS's)."""
    name = arn.rsplit("/", 1)[-1]
    policy = _aws_managed_policies().get(name)
    if policy is None or not arn.startswith(f"arn:{PARTITION}:iam::aws:policy/"):
        raise TemplateError(f"{arn}: only AWS managed policies are known locally")
    return policy["Document"]


def queue_policies(template: Template) -> dict[str, PolicyDocument]:
    """Queue ARN → the policy document an ``AWS::SQS::QueuePolicy`` sets on it (the last one wins, as in SQS)."""
    by_url = {q.url: q.arn for q in template.queues().values()}
    out: dict[str, PolicyDocument] = {}
    for resource in _of_type(template, "AWS::SQS::QueuePolicy"):
        props = template.resolve(resource["Properties"])
        for url in props["Queues"]:
            out[by_url.get(url, url)] = props["PolicyDocument"]
    return out


def topic_policies(template: Template) -> dict[str, PolicyDocument]:
    out: dict[str, PolicyDocument] = {}
    for resource in _of_type(template, "AWS::SNS::TopicPolicy"):
        props = template.resolve(resource["Properties"])
        for topic in props["Topics"]:
            out[topic] = props["PolicyDocument"]
    return out


def bucket_policies(template: Template) -> dict[str, PolicyDocument]:
    """Bucket ARN → the policy an ``AWS::S3::BucketPolicy`` sets on it (it governs the bucket's objects too)."""
    out: dict[str, PolicyDocument] = {}
    for resource in _of_type(template, "AWS::S3::BucketPolicy"):
        props = template.resolve(resource["Properties"])
        out[f"arn:{PARTITION}:s3:::{props['Bucket']}"] = props["PolicyDocument"]
    return out


def function_policies(template: Template) -> dict[str, PolicyDocument]:
    """Function ARN → the resource policy its ``AWS::Lambda::Permission`` resources make (who may invoke it)."""
    out: dict[str, PolicyDocument] = {}
    for resource in _of_type(template, "AWS::Lambda::Permission"):
        props = template.resolve(resource["Properties"])
        arn = props["FunctionName"]
        if not arn.startswith("arn:"):
            arn = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{arn}"
        principal = props["Principal"]
        condition: dict[str, Any] = {}
        if props.get("SourceAccount"):
            condition["StringEquals"] = {"aws:SourceAccount": props["SourceAccount"]}
        if props.get("SourceArn"):
            condition["ArnLike"] = {"aws:SourceArn": props["SourceArn"]}
        statement = {"Effect": "Allow", "Action": props["Action"], "Resource": arn,
                     "Principal": {"Service": principal} if principal.endswith(".amazonaws.com") else {"AWS": principal}}
        if condition:
            statement["Condition"] = condition
        out.setdefault(arn, {"Version": "2012-10-17", "Statement": []})["Statement"].append(statement)
    return out


def key_policies(template: Template) -> dict[str, PolicyDocument]:
    """KMS key ARN → its key policy; a key without one gets KMS's default (the account administers it via IAM)."""
    default = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:root"}, "Action": "kms:*",
        "Resource": "*"}]}
    return {template.arn(rid): template.resolve(template.resource(rid).get("Properties", {}).get("KeyPolicy"))
            or default
            for rid, r in template.resources.items() if r["Type"] == "AWS::KMS::Key"}


def key_arn(template: Template, key: str | None) -> str | None:
    """The ARN of a customer managed key a resource names (id, ARN or alias of a template key); None for none or
    an AWS managed key (``alias/aws/...``, whose policy lets the account use it through its service)."""
    if not key or key.startswith("alias/aws/"):
        return None
    if key.startswith("arn:"):
        return key if ":key/" in key else _alias_target(template, key.split(":", 5)[5])
    if key.startswith("alias/"):
        return _alias_target(template, key)
    return f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT_ID}:key/{key}"


def _alias_target(template: Template, alias: str) -> str | None:
    for resource in _of_type(template, "AWS::KMS::Alias"):
        props = template.resolve(resource["Properties"])
        if props["AliasName"] == alias:
            return key_arn(template, props["TargetKeyId"])
    return None


def _of_type(template: Template, kind: str) -> list[dict[str, Any]]:
    return [r for r in template.resources.values() if r["Type"] == kind]
