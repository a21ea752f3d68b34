"""What AWS authorizes for one API call: its IAM action(s), the resource ARN(s) and the request's condition keys.

An API call is not always one action on one resource. A ``TransactWriteItems`` is checked item by item (``Put`` is
``dynamodb:PutItem`` on that item's table, ``ConditionCheck`` is ``dynamodb:ConditionCheckItem``...); a ``Query``
on an index needs the index's ARN; ``SendMessageBatch`` is ``sqs:SendMessage``; ``PutEvents`` is checked per
entry's bus; SES authorizes a send on the verified identity the sender belongs to. Services that encrypt with a
customer managed key use it as the caller, so the call also needs the key: ``kms:Decrypt`` through DynamoDB for
a table (its table key), ``kms:GenerateDataKey`` and ``kms:Decrypt`` through SQS or SNS to send to an encrypted
queue or topic, ``kms:Decrypt`` to receive (with ``kms:ViaService`` and ``kms:CallerAccount``, which key
policies and roles condition on).

Condition keys set: ``dynamodb:LeadingKeys`` (partition keys an item call, a transaction or a ``Query`` touches),
``events:source``/``events:detail-type``, ``ses:FromAddress``/``ses:Recipients``, ``cloudwatch:namespace``,
``kms:ViaService``/``kms:CallerAccount``. A user pool call is authorized on its pool. Any call not described here is checked as ``<service>:<Operation>`` on
``*`` (the simulator uses ``*`` anyway for actions that have no resource).
"""

from __future__ import annotations

import base64
import email
import email.utils
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from amends_local.iam_policies import key_arn
from amends_local.template import ACCOUNT_ID, PARTITION, Template

Context = tuple[tuple[str, str | tuple[str, ...]], ...]

# botocore's service name → IAM's service prefix, where they differ.
PREFIX = {"stepfunctions": "states", "sesv2": "ses", "dynamodbstreams": "dynamodb"}
_BATCH_ACTIONS = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
                  "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}
_TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
_DYNAMODB_ITEM_CALLS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem"}


@dataclass(frozen=True)
class AuthRequest:
    """One authorization AWS makes for a call."""

    action: str
    resource: str
    context: Context = ()


@dataclass(frozen=True)
class TableView:
    arn: str
    hash_keys: dict[str | None, str]  # None → the table's partition key; an index name → the index's
    key: str | None  # customer managed KMS key ARN


@dataclass
class Resources:
    """What the mapping needs to know of the template's resources, by the names calls use."""

    region: str
    tables: dict[str, TableView] = field(default_factory=dict)
    queue_keys: dict[str, str | None] = field(default_factory=dict)  # queue ARN → key ARN
    topic_keys: dict[str, str | None] = field(default_factory=dict)
    verified_identities: frozenset[str] = frozenset()  # SES addresses and domains, lower case

    @classmethod
    def of(cls, template: Template, region: str, verified_identities: frozenset[str]) -> Resources:
        tables = {}
        for table in template.tables().values():
            props = table.properties
            hash_keys: dict[str | None, str] = {None: _hash_key(props["KeySchema"])}
            for index in props.get("GlobalSecondaryIndexes", []) + props.get("LocalSecondaryIndexes", []):
                hash_keys[index["IndexName"]] = _hash_key(index["KeySchema"])
            sse = props.get("SSESpecification") or {}
            key = key_arn(template, sse.get("KMSMasterKeyId")) if sse.get("SSEEnabled") else None
            tables[table.name] = TableView(table.arn, hash_keys, key)
        queues = {q.arn: key_arn(template, q.properties.get("KmsMasterKeyId")) for q in template.queues().values()}
        topics = {template.arn(rid): key_arn(template, template.resolve(r.get("Properties", {}).get("KmsMasterKeyId")))
                  for rid, r in template.resources.items() if r["Type"] == "AWS::SNS::Topic"}
        return cls(region, tables, queues, topics, frozenset(i.lower() for i in verified_identities))


def requests_for(service: str, operation: str, params: dict[str, Any], resources: Resources) -> list[AuthRequest]:
    """Every authorization AWS makes for this call, in the order it would find the first refusal."""
    mapper = _MAPPERS.get(service)
    found = list(mapper(operation, params, resources)) if mapper else []
    return found or [AuthRequest(f"{PREFIX.get(service, service)}:{operation}", "*")]


# ---- DynamoDB ----------------------------------------------------------------------------------------------------
def _dynamodb(operation: str, params: dict[str, Any], r: Resources) -> Iterator[AuthRequest]:
    if operation == "TransactWriteItems" or operation == "TransactGetItems":
        for item in params.get("TransactItems", []):
            ((kind, spec),) = item.items()
            yield from _table_call(r, _TRANSACT_ACTIONS[kind], spec["TableName"], None, [spec.get("Key") or
                                                                                       spec.get("Item") or {}])
    elif operation in ("BatchWriteItem", "BatchGetItem"):
        for table, spec in params.get("RequestItems", {}).items():
            keys = spec["Keys"] if operation == "BatchGetItem" else [
                w.get("PutRequest", {}).get("Item") or w.get("DeleteRequest", {}).get("Key") or {} for w in spec]
            yield from _table_call(r, operation, table, None, keys)
    elif operation in _DYNAMODB_ITEM_CALLS:
        yield from _table_call(r, operation, params["TableName"], None, [params.get("Key") or params.get("Item") or {}])
    elif operation == "Query":
        yield from _table_call(r, operation, params["TableName"], params.get("IndexName"), [], _query_leading(params, r))
    elif "TableName" in params:
        yield from _table_call(r, operation, params["TableName"], params.get("IndexName"), [])
    elif "TableArn" in params or "ResourceArn" in params:
        yield AuthRequest(f"dynamodb:{operation}", params.get("TableArn") or params["ResourceArn"])


def _table_call(r: Resources, operation: str, table_name: str, index: str | None, items: list[dict[str, Any]],
                leading: list[str] | None = None) -> Iterator[AuthRequest]:
    name = table_name.rsplit("table/", 1)[-1] if table_name.startswith("arn:") else table_name
    view = r.tables.get(name)
    arn = view.arn if view else f"arn:{PARTITION}:dynamodb:{r.region}:{ACCOUNT_ID}:table/{name}"
    if leading is None and view is not None and items:
        hash_key = view.hash_keys[None]
        leading = [_scalar(item[hash_key]) for item in items if hash_key in item]
    context: Context = (("dynamodb:LeadingKeys", tuple(dict.fromkeys(leading))),) if leading else ()
    yield AuthRequest(f"dynamodb:{operation}", f"{arn}/index/{index}" if index else arn, context)
    if view is not None and view.key is not None:
        yield _through(view.key, "kms:Decrypt", "dynamodb", r.region)


def _query_leading(params: dict[str, Any], r: Resources) -> list[str] | None:
    """The partition key value a Query's KeyConditionExpression asks for (``pk = :value``)."""
    view = r.tables.get(params["TableName"].rsplit("table/", 1)[-1])
    expression = params.get("KeyConditionExpression")
    if view is None or not isinstance(expression, str):
        return None
    hash_key = view.hash_keys.get(params.get("IndexName"))
    names = params.get("ExpressionAttributeNames", {})
    for name, placeholder in re.findall(r"([#\w.]+)\s*=\s*(:\w+)", expression):
        if names.get(name, name) == hash_key and placeholder in params.get("ExpressionAttributeValues", {}):
            return [_scalar(params["ExpressionAttributeValues"][placeholder])]
    return None


def _hash_key(schema: list[dict[str, str]]) -> str:
    return next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")


def _scalar(value: Any) -> str:
    """A key attribute as IAM sees it: the string of a low-level ``{"S": ...}`` value, or of a plain one."""
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    return str(value)


# ---- SQS, SNS, EventBridge, Step Functions -----------------------------------------------------------------------
def _sqs(operation: str, params: dict[str, Any], r: Resources) -> Iterator[AuthRequest]:
    action = f"sqs:{_BATCH_ACTIONS.get(operation, operation)}"
    if "QueueUrl" in params:
        parts = urlparse(params["QueueUrl"]).path.strip("/").split("/")
        arn = f"arn:{PARTITION}:sqs:{r.region}:{parts[-2]}:{parts[-1]}"
    elif "QueueName" in params:
        arn = f"arn:{PARTITION}:sqs:{r.region}:{params.get('QueueOwnerAWSAccountId', ACCOUNT_ID)}:{params['QueueName']}"
    else:
        return
    yield AuthRequest(action, arn)
    key = r.queue_keys.get(arn)
    if key and action == "sqs:SendMessage":
        yield _through(key, "kms:GenerateDataKey", "sqs", r.region)
        yield _through(key, "kms:Decrypt", "sqs", r.region)
    elif key and action == "sqs:ReceiveMessage":
        yield _through(key, "kms:Decrypt", "sqs", r.region)


def _sns(operation: str, params: dict[str, Any], r: Resources) -> Iterator[AuthRequest]:
    topic = params.get("TopicArn") or params.get("TargetArn")
    if not topic:
        return
    yield AuthRequest(f"sns:{operation}", topic)
    key = r.topic_keys.get(topic)
    if key and operation in ("Publish", "PublishBatch"):
        yield _through(key, "kms:GenerateDataKey", "sns", r.region)
        yield _through(key, "kms:Decrypt", "sns", r.region)


def _events(operation: str, params: dict[str, Any], r: Resources) -> Iterator[AuthRequest]:
    if operation != "PutEvents":
        return
    for entry in params.get("Entries", []):
        bus = entry.get("EventBusName") or "default"
        arn = bus if bus.startswith("arn:") else f"arn:{PARTITION}:events:{r.region}:{ACCOUNT_ID}:event-bus/{bus}"
        context = tuple((k, entry[f]) for k, f in (("events:source", "Source"), ("events:detail-type", "DetailType"))
                        if entry.get(f))
        yield AuthRequest("events:PutEvents", arn, context)


def _states(operation: str, params: dict[str, Any], r: Resources) -> Iterator[AuthRequest]:
    resource = params.get("stateMachineArn") or params.get("executionArn") or params.get("activityArn") or "*"
    yield AuthRequest(f"states:{operation}", resource)


def _cognito_idp(operation: str, params: dict[str, Any], r: Resources) -> Iterator[AuthRequest]:
    """A user pool call is authorized on the pool (``userpool/<id>``)."""
    if pool := params.get("UserPoolId"):
        yield AuthRequest(f"cognito-idp:{operation}", f"arn:{PARTITION}:cognito-idp:{r.region}:{ACCOUNT_ID}:userpool/{pool}")


# ---- SES, Lambda, CloudWatch, S3, KMS ----------------------------------------------------------------------------
def _ses(operation: str, params: dict[str, Any], r: Resources) -> Iterator[AuthRequest]:
    if operation not in ("SendEmail", "SendRawEmail", "SendTemplatedEmail", "SendBulkTemplatedEmail", "SendBulkEmail"):
        return
    source = params.get("Source") or params.get("FromEmailAddress") or _raw_from(params)
    display, address = email.utils.parseaddr(source or "")
    recipients = _recipients(params)
    context: Context = tuple((k, v) for k, v in (("ses:FromAddress", address), ("ses:FromDisplayName", display),
                                                ("ses:Recipients", tuple(recipients))) if v)
    # The address's own identity when it is verified, else its domain's; neither: SES refuses it (MessageRejected).
    domain = address.rpartition("@")[2]
    identity = domain if address.lower() not in r.verified_identities and domain.lower() in r.verified_identities \
        else address
    yield AuthRequest(f"ses:{operation}", f"arn:{PARTITION}:ses:{r.region}:{ACCOUNT_ID}:identity/{identity}", context)
    if params.get("ConfigurationSetName"):  # SES authorizes the configuration set the mail names too
        yield AuthRequest(f"ses:{operation}", f"arn:{PARTITION}:ses:{r.region}:{ACCOUNT_ID}:configuration-set/"
                                               f"{params['ConfigurationSetName']}", context)


def _raw_from(params: dict[str, Any]) -> str | None:
    data = params.get("RawMessage", {}).get("Data") or params.get("Content", {}).get("Raw", {}).get("Data")
    if data is None:
        return None
    raw = base64.b64decode(data) if isinstance(data, str) else data
    return email.message_from_bytes(raw).get("From")


def _recipients(params: dict[str, Any]) -> list[str]:
    destination = params.get("Destination") or {}
    found = [*params.get("Destinations", []), *destination.get("ToAddresses", []), *destination.get("CcAddresses", []),
             *destination.get("BccAddresses", [])]
    return [email.utils.parseaddr(a)[1] for a in found]


def _lambda(operation: str, params: dict[str, Any], r: Resources) -> Iterator[AuthRequest]:
    name = params.get("FunctionName")
    if not name:
        return
    arn = name if name.startswith("arn:") else f"arn:{PARTITION}:lambda:{r.region}:{ACCOUNT_ID}:function:{name}"
    yield AuthRequest("lambda:InvokeFunction" if operation.startswith("Invoke") else f"lambda:{operation}", arn)


def _cloudwatch(operation: str, params: dict[str, Any], r: Resources) -> Iterator[AuthRequest]:
    namespace = params.get("Namespace")
    yield AuthRequest(f"cloudwatch:{operation}", "*", (("cloudwatch:namespace", namespace),) if namespace else ())


def _s3(operation: str, params: dict[str, Any], r: Resources) -> Iterator[AuthRequest]:
    bucket, key = params.get("Bucket"), params.get("Key")
    if not bucket:
        return
    action = {"HeadObject": "GetObject", "ListObjectsV2": "ListBucket", "ListObjects": "ListBucket",
              "HeadBucket": "ListBucket", "CopyObject": "PutObject"}.get(operation, operation)
    yield AuthRequest(f"s3:{action}", f"arn:{PARTITION}:s3:::{bucket}" + (f"/{key}" if key else ""))


def _kms(operation: str, params: dict[str, Any], r: Resources) -> Iterator[AuthRequest]:
    key = params.get("KeyId")
    if key:
        arn = key if key.startswith("arn:") else f"arn:{PARTITION}:kms:{r.region}:{ACCOUNT_ID}:key/{key}"
        yield AuthRequest(f"kms:{operation}", arn, (("kms:CallerAccount", ACCOUNT_ID),))


def _through(key: str, action: str, service: str, region: str) -> AuthRequest:
    """A KMS request a service makes with the caller's credentials, on the caller's behalf."""
    return AuthRequest(action, key, (("kms:CallerAccount", ACCOUNT_ID),
                                     ("kms:ViaService", f"{service}.{region}.amazonaws.com")))


_MAPPERS = {"dynamodb": _dynamodb, "sqs": _sqs, "sns": _sns, "events": _events, "stepfunctions": _states,
            "ses": _ses, "sesv2": _ses, "lambda": _lambda, "cloudwatch": _cloudwatch, "s3": _s3, "kms": _kms,
            "cognito-idp": _cognito_idp}
