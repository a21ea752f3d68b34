"""template.yaml, read for the local world: the runtime's only list of resources.

The SAM template is decoded with cfn-lint's YAML loader (it understands !Ref, !GetAtt, !Sub...) and every
intrinsic is resolved to what the local emulators call things: a table is ``amends-CasesTable``, a queue's
Ref is its URL on the moto server, ARNs use region eu-west-2 and account 123456789012 (moto's default
account), shaped as moto shapes them. Nothing here talks to an emulator; it only names and describes.

Parameters take their defaults, overridable with the environment variable ``AMENDS_PARAM_<Name>``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

STACK_NAME = "amends"
REGION = "eu-west-2"
ACCOUNT_ID = "123456789012"
PARTITION = "aws"
DEFAULT_BUS = "default"

PSEUDO_PARAMETERS = {
    "AWS::StackName": STACK_NAME,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::Partition": PARTITION,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
}

FUNCTION_TYPES = ("AWS::Serverless::Function",)
STATE_MACHINE_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
_NO_VALUE = object()  # AWS::NoValue: the key it is under disappears


class TemplateError(ValueError):
    """The template asks for something the local runtime cannot resolve; the message names it."""


# ------------------------------------------------------------------------------------------
# What the accessors return: plain, resolved data
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApiRoute:
    function_id: str
    method: str
    path: str
    authorizer: str | None  # None when the route says NONE; else the authorizer's name (maybe the default)
    api_id: str | None = None
    event_name: str | None = None
    timeout_in_millis: int | None = None  # the Api event's integration timeout; None: API Gateway's default


@dataclass(frozen=True)
class GatewayResponse:
    response_type: str
    status_code: int | None
    headers: dict[str, str]
    template: str | None


@dataclass(frozen=True)
class FunctionEvent:
    """One entry of a function's or state machine's Events, its properties resolved."""

    owner_id: str
    name: str
    type: str
    properties: dict[str, Any]
    source_id: str | None = None  # logical id of the queue/table the event reads, when it names one


@dataclass(frozen=True)
class Function:
    logical_id: str
    name: str
    arn: str
    code_uri: str
    handler: str
    environment: dict[str, str]
    timeout: int
    memory_size: int
    events: dict[str, FunctionEvent]
    runtime: str = "python3.13"
    event_invoke_config: dict[str, Any] = field(
        default_factory=dict
    )  # asynchronous invocations: retries, destinations
    dead_letter_queue: dict[str, Any] | None = None  # SAM DeadLetterQueue: {Type: SQS, TargetArn}
    reserved_concurrency: int | None = None  # ReservedConcurrentExecutions: at most this many at once

    @property
    def module_file(self) -> str:
        """``app.lambda_handler`` → ``app.py`` (relative to CodeUri)."""
        return self.handler.rsplit(".", 1)[0].replace(".", "/") + ".py"

    @property
    def handler_attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass(frozen=True)
class Table:
    logical_id: str
    name: str
    arn: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class Queue:
    logical_id: str
    name: str
    arn: str
    url: str
    properties: dict[str, Any]

    @property
    def redrive_policy(self) -> dict[str, Any] | None:
        return self.properties.get("RedrivePolicy")

    @property
    def visibility_timeout(self) -> int:
        return int(self.properties.get("VisibilityTimeout", 30))


@dataclass(frozen=True)
class EventBus:
    logical_id: str
    name: str
    arn: str


@dataclass(frozen=True)
class RuleTarget:
    id: str
    arn: str
    retry_policy: dict[str, Any] = field(default_factory=dict)
    dead_letter_arn: str | None = None
    input: str | None = None
    input_path: str | None = None
    input_transformer: dict[str, Any] | None = None
    role_arn: str | None = None  # the role EventBridge assumes to deliver (API destinations, other buses)

    @property
    def service(self) -> str:
        """The ARN's service: sqs, lambda, states, events, logs..."""
        return self.arn.split(":")[2]

    @property
    def is_api_destination(self) -> bool:
        return self.arn.split(":")[2:3] == ["events"] and ":api-destination/" in self.arn


@dataclass(frozen=True)
class Rule:
    """An AWS::Events::Rule, or one SAM makes from a function's or state machine's event."""

    logical_id: str
    name: str
    arn: str
    bus_name: str
    event_pattern: dict[str, Any] | None
    schedule: str | None
    enabled: bool
    targets: tuple[RuleTarget, ...]
    description: str = ""

    @property
    def ref(self) -> str:
        """CloudFormation's Ref of a rule: its name, or ``<bus>|<name>`` for a rule on a custom bus."""
        return self.name if self.bus_name == DEFAULT_BUS else f"{self.bus_name}|{self.name}"


@dataclass(frozen=True)
class Archive:
    logical_id: str
    name: str
    source_arn: str
    event_pattern: dict[str, Any] | None
    retention_days: int | None
    description: str = ""


@dataclass(frozen=True)
class StateMachine:
    logical_id: str
    name: str
    arn: str
    definition: str  # JSON, DefinitionSubstitutions applied
    type: str


@dataclass(frozen=True)
class ReceiptAction:
    """One action of an SES receipt rule: its kind (``S3Action``, ``LambdaAction``, ``StopAction``...) and spec."""

    kind: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class ApiDestination:
    """An AWS::Events::ApiDestination with what its connection adds to every request (auth and parameters)."""

    logical_id: str
    arn: str
    endpoint: str
    method: str
    rate_limit_per_second: int | None
    headers: tuple[tuple[str, str], ...]  # the connection's auth header and its invocation header parameters
    query: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ReceiptRule:
    """An ``AWS::SES::ReceiptRule``: which recipients it takes, and what it does with their mail, in order."""

    logical_id: str
    name: str
    rule_set: str
    arn: str
    recipients: tuple[str, ...]  # addresses or domains; none: every recipient of the account's verified domains
    enabled: bool
    scan_enabled: bool
    actions: tuple[ReceiptAction, ...]

    def matches(self, recipient: str) -> bool:
        """SES's matching: an address exactly, a domain for every address in it (case-insensitive)."""
        address = recipient.lower()
        if not self.recipients:
            return True
        for wanted in (r.lower() for r in self.recipients):
            if address == wanted or ("@" not in wanted and address.rpartition("@")[2] == wanted):
                return True
        return False


# ------------------------------------------------------------------------------------------
class Template:
    """The SAM template, with intrinsics resolved for the local world.

    ``queue_endpoint`` is the base of queue URLs (the moto server); the runtime sets it once it has a port.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        parameters: dict[str, str] | None = None,
        queue_endpoint: str = "http://127.0.0.1:5000",
    ) -> None:
        self.path = Path(path)
        self.root = self.path.parent
        self.queue_endpoint = queue_endpoint
        # Ids the emulator generated (a user pool's): what Ref gives for them, once the runtime has created them.
        self.generated_ids: dict[str, str] = {}
        raw = cfn_yaml.load(str(self.path))
        self.raw: dict[str, Any] = json.loads(json.dumps(raw))  # plain dicts, no decoder node classes
        self._parameters = self._parameter_values(parameters or {})
        self._conditions: dict[str, bool] = {}
        self._check_rules()
        self.resources: dict[str, dict[str, Any]] = {
            rid: res
            for rid, res in self.raw.get("Resources", {}).items()
            if "Condition" not in res or self.condition(res["Condition"])
        }

    # ---- parameters & conditions ---------------------------------------------------------------------------
    def _parameter_values(self, given: dict[str, str]) -> dict[str, str]:
        values: dict[str, str] = {}
        for name, spec in self.raw.get("Parameters", {}).items():
            value = given.get(name, os.environ.get(f"AMENDS_PARAM_{name}", spec.get("Default")))
            if value is None:
                raise TemplateError(f"Parameter {name} has no default: set AMENDS_PARAM_{name}")
            value = str(value)
            allowed = spec.get("AllowedValues")
            if allowed and value not in [str(a) for a in allowed]:
                raise TemplateError(f"Parameter {name}={value!r} is not one of {allowed}")
            pattern = spec.get("AllowedPattern")
            if pattern and not re.fullmatch(pattern, value):
                raise TemplateError(f"Parameter {name}={value!r} does not match {pattern}: "
                                    f"{spec.get('ConstraintDescription', 'see its Description')}")
            values[name] = value
        return values

    def _check_rules(self) -> None:
        """The template's Rules, as CloudFormation checks them before it creates anything: where a rule's
        RuleCondition holds, each Assert must, or the parameters are refused with its AssertDescription."""
        for name, rule in self.raw.get("Rules", {}).items():
            if "RuleCondition" in rule and not self.resolve(rule["RuleCondition"]):
                continue
            for assertion in rule.get("Assertions", []):
                if not self.resolve(assertion["Assert"]):
                    raise TemplateError(f"Rule {name}: {assertion.get('AssertDescription', 'an assertion failed')}")

    @property
    def parameters(self) -> dict[str, str]:
        return dict(self._parameters)

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            spec = self.raw.get("Conditions", {}).get(name)
            if spec is None:
                raise TemplateError(f"Unknown condition {name}")
            self._conditions[name] = bool(self.resolve(spec))
        return self._conditions[name]

    # ---- names the local world gives things ----------------------------------------------------------------
    def resource(self, logical_id: str) -> dict[str, Any]:
        try:
            return self.resources[logical_id]
        except KeyError:
            raise TemplateError(f"No resource {logical_id} in {self.path.name}") from None

    def type_of(self, logical_id: str) -> str:
        return self.resource(logical_id)["Type"]

    def _prop(self, logical_id: str, name: str) -> Any:
        value = self.resource(logical_id).get("Properties", {}).get(name)
        return None if value is None else self.resolve(value)

    def physical_name(self, logical_id: str) -> str:
        """The name the runtime gives a resource: its own name property, else ``amends-<LogicalId>``."""
        kind = self.type_of(logical_id)
        own = {
            "AWS::DynamoDB::Table": "TableName",
            "AWS::SQS::Queue": "QueueName",
            "AWS::Events::EventBus": "Name",
            "AWS::Events::Rule": "Name",
            "AWS::Serverless::Function": "FunctionName",
            "AWS::Serverless::StateMachine": "Name",
            "AWS::StepFunctions::StateMachine": "StateMachineName",
            "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::SNS::Topic": "TopicName",
            "AWS::Events::Archive": "ArchiveName",
            "AWS::Cognito::UserPool": "UserPoolName",
            "AWS::CloudWatch::Alarm": "AlarmName",
            "AWS::KMS::Alias": "AliasName",
            "AWS::S3::Bucket": "BucketName",
            "AWS::SES::ReceiptRuleSet": "RuleSetName",
            "AWS::SES::ConfigurationSet": "Name",
            "AWS::Events::Connection": "Name",
            "AWS::Events::ApiDestination": "Name",
            "AWS::IAM::Role": "RoleName",
        }.get(kind)
        name = self._prop(logical_id, own) if own else None
        if name:
            return str(name)
        if kind == "AWS::Logs::LogGroup":
            return f"/aws/{STACK_NAME}/{logical_id}"
        if kind == "AWS::S3::Bucket":  # bucket names are lower case
            return f"{STACK_NAME}-{logical_id}".lower()
        return f"{STACK_NAME}-{logical_id}"

    def arn(self, logical_id: str) -> str:
        kind, name = self.type_of(logical_id), self.physical_name(logical_id)
        prefix = f"arn:{PARTITION}"
        match kind:
            case "AWS::DynamoDB::Table":
                return f"{prefix}:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
            case "AWS::SQS::Queue":
                return f"{prefix}:sqs:{REGION}:{ACCOUNT_ID}:{name}"
            case "AWS::Events::EventBus":
                return f"{prefix}:events:{REGION}:{ACCOUNT_ID}:event-bus/{name}"
            case "AWS::Events::Rule":
                bus = self.bus_name_of(self._prop(logical_id, "EventBusName"))
                return rule_arn(bus, name)
            case "AWS::Events::Archive":
                return f"{prefix}:events:{REGION}:{ACCOUNT_ID}:archive/{name}"
            case "AWS::Serverless::Function" | "AWS::Lambda::Function":
                return f"{prefix}:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
            case "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine":
                return f"{prefix}:states:{REGION}:{ACCOUNT_ID}:stateMachine:{name}"
            case "AWS::Logs::LogGroup":
                return f"{prefix}:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*"
            case "AWS::SNS::Topic":
                return f"{prefix}:sns:{REGION}:{ACCOUNT_ID}:{name}"
            case "AWS::Cognito::UserPool":
                return f"{prefix}:cognito-idp:{REGION}:{ACCOUNT_ID}:userpool/{self.ref(logical_id)}"
            case "AWS::CloudWatch::Alarm":
                return f"{prefix}:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:{name}"
            case "AWS::Serverless::LayerVersion":
                return f"{prefix}:lambda:{REGION}:{ACCOUNT_ID}:layer:{name}:1"
            case "AWS::KMS::Key":
                return f"{prefix}:kms:{REGION}:{ACCOUNT_ID}:key/{self.ref(logical_id)}"
            case "AWS::S3::Bucket":
                return f"{prefix}:s3:::{name}"
            case "AWS::Events::Connection" | "AWS::Events::ApiDestination":
                # EventBridge adds a UUID of its own; a fixed one per logical id keeps references consistent.
                kind_name = "connection" if kind == "AWS::Events::Connection" else "api-destination"
                suffix = uuid.uuid5(uuid.NAMESPACE_URL, f"{STACK_NAME}/{logical_id}")
                return f"{prefix}:events:{REGION}:{ACCOUNT_ID}:{kind_name}/{name}/{suffix}"
            case "AWS::IAM::Role":
                return f"{prefix}:iam::{ACCOUNT_ID}:role/{name}"
        raise TemplateError(f"No local ARN for {logical_id} ({kind})")

    def queue_url(self, logical_id: str) -> str:
        return f"{self.queue_endpoint.rstrip('/')}/{ACCOUNT_ID}/{self.physical_name(logical_id)}"

    def ref(self, logical_id: str) -> str:
        """What ``!Ref`` of a resource gives, as CloudFormation documents it per type."""
        if (generated := self._generated_rule(logical_id)) is not None:
            return generated.ref
        kind = self.type_of(logical_id)
        match kind:
            case "AWS::SQS::Queue":
                return self.queue_url(logical_id)
            case (
                "AWS::Serverless::StateMachine"
                | "AWS::StepFunctions::StateMachine"
                | "AWS::SNS::Topic"
                | "AWS::Serverless::LayerVersion"
            ):
                return self.arn(logical_id)
            case "AWS::Serverless::Api":
                return logical_id.lower()[:10]
            case "AWS::Cognito::UserPool":
                return self.generated_ids.get(logical_id) or f"{REGION}_{logical_id[:9]}"
            case "AWS::Cognito::UserPoolClient":
                return f"local{logical_id.lower()}"[:26]
            case "AWS::KMS::Key":
                # A key id is a UUID; a fixed one per logical id keeps restarts and references consistent.
                return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{STACK_NAME}/{logical_id}"))
            case "AWS::Events::Rule":
                return self.rules()[logical_id].ref
        return self.physical_name(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> str:
        if (generated := self._generated_rule(logical_id)) is not None and attribute == "Arn":
            return generated.arn
        kind = self.type_of(logical_id)
        if attribute == "Arn":
            return self.arn(logical_id)
        if kind == "AWS::DynamoDB::Table" and attribute == "StreamArn":
            # DynamoDB Local invents its own stream ARN; this stands for "the table's stream" in the template.
            return f"{self.arn(logical_id)}/stream/local"
        if kind == "AWS::SQS::Queue" and attribute == "QueueName":
            return self.physical_name(logical_id)
        if kind == "AWS::SQS::Queue" and attribute == "QueueUrl":
            return self.queue_url(logical_id)
        if kind in STATE_MACHINE_TYPES and attribute == "Name":
            return self.physical_name(logical_id)
        if kind == "AWS::Events::EventBus" and attribute == "Name":
            return self.physical_name(logical_id)
        if kind == "AWS::Cognito::UserPool" and attribute == "ProviderName":
            return f"cognito-idp.{REGION}.amazonaws.com/{self.ref(logical_id)}"
        raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute} ({kind}) has no local value")

    def _generated_rule(self, logical_id: str) -> Rule | None:
        """A rule SAM generates from a function's or state machine's event (``<Owner><Event>``), if that is one."""
        if logical_id in self.resources:
            return None
        return self.rules().get(logical_id)

    def bus_name_of(self, value: str | None) -> str:
        """EventBusName may be a name or an ARN; absent means the default bus."""
        if not value:
            return DEFAULT_BUS
        return value.rsplit("event-bus/", 1)[-1] if value.startswith("arn:") else value

    # ---- intrinsic functions -------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic in ``value`` (recursively) to a plain value."""
        if isinstance(value, list):
            return [v for v in (self.resolve(item) for item in value) if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
                return self.get_att(logical_id, self.resolve(attribute))
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                delimiter, items = arg
                return self.resolve(delimiter).join(str(i) for i in self.resolve(items))
            if key == "Fn::If":
                name, yes, no = arg
                return self.resolve(yes if self.condition(name) else no)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::Equals":
                left, right = self.resolve(arg)
                return str(left) == str(right)
            if key == "Fn::And":
                return all(self.resolve(arg))
            if key == "Fn::Or":
                return any(self.resolve(arg))
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Select":
                index, items = self.resolve(arg)
                return items[int(index)]
            if key == "Fn::Split":
                delimiter, text = self.resolve(arg)
                return text.split(delimiter)
            if key.startswith("Fn::"):
                raise TemplateError(f"{key} is not supported by the local runtime")
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self._parameters:
            kind = self.raw["Parameters"][name].get("Type", "String")
            if kind == "CommaDelimitedList" or kind.startswith("List<"):
                return [item.strip() for item in self._parameters[name].split(",")] if self._parameters[name] else []
            return self._parameters[name]
        return self.ref(name)

    def _sub(self, arg: str | list[Any]) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token.startswith("!"):
                return "${" + token[1:] + "}"
            if token in variables:
                return str(variables[token])
            if "." in token and token not in PSEUDO_PARAMETERS:
                logical_id, attribute = token.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self._ref(token))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def referenced_id(self, value: Any) -> str | None:
        """The logical id a raw (unresolved) value points at with Ref or GetAtt, if it does."""
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" and arg in self.resources:
                return arg
            if key == "Fn::GetAtt":
                return (arg.split(".", 1) if isinstance(arg, str) else arg)[0]
        return None

    # ---- typed accessors -----------------------------------------------------------------------------------
    def _of_type(self, *types: str) -> list[str]:
        return [rid for rid, res in self.resources.items() if res["Type"] in types]

    def _globals(self, section: str) -> dict[str, Any]:
        return self.raw.get("Globals", {}).get(section, {})

    def _merged_function_properties(self, logical_id: str) -> dict[str, Any]:
        """SAM's Globals merge: the function's own keys win; Environment variables are merged key by key."""
        own = self.resource(logical_id).get("Properties", {})
        merged = {**self._globals("Function"), **own}
        env = {
            **self._globals("Function").get("Environment", {}).get("Variables", {}),
            **own.get("Environment", {}).get("Variables", {}),
        }
        merged["Environment"] = {"Variables": env}
        return merged

    def functions(self) -> dict[str, Function]:
        out: dict[str, Function] = {}
        for rid in self._of_type(*FUNCTION_TYPES):
            props = self._merged_function_properties(rid)
            env = {k: _env_string(v) for k, v in self.resolve(props["Environment"]["Variables"]).items()}
            events = {name: self._event(rid, name, spec) for name, spec in props.get("Events", {}).items()}
            out[rid] = Function(
                logical_id=rid,
                name=self.physical_name(rid),
                arn=self.arn(rid),
                code_uri=str(self.resolve(props["CodeUri"])),
                handler=str(self.resolve(props["Handler"])),
                environment=env,
                timeout=int(self.resolve(props.get("Timeout", 3))),
                memory_size=int(self.resolve(props.get("MemorySize", 128))),
                events=events,
                runtime=str(self.resolve(props.get("Runtime", "python3.13"))),
                event_invoke_config=self.resolve(props.get("EventInvokeConfig", {})),
                dead_letter_queue=self.resolve(props["DeadLetterQueue"])
                if "DeadLetterQueue" in props
                else None,
                reserved_concurrency=_int_or_none(self.resolve(props.get("ReservedConcurrentExecutions"))),
            )
        return out

    def _event(self, owner_id: str, name: str, spec: dict[str, Any]) -> FunctionEvent:
        raw = spec.get("Properties", {})
        source = raw.get("Queue") or raw.get("Stream")
        return FunctionEvent(
            owner_id=owner_id,
            name=name,
            type=spec["Type"],
            properties=self.resolve(raw),
            source_id=self.referenced_id(source) if source is not None else None,
        )

    def function_events(self, *types: str) -> list[FunctionEvent]:
        return [
            event for fn in self.functions().values() for event in fn.events.values() if event.type in types
        ]

    def tables(self) -> dict[str, Table]:
        return {
            rid: Table(
                rid, self.physical_name(rid), self.arn(rid), self.resolve(self.resource(rid)["Properties"])
            )
            for rid in self._of_type("AWS::DynamoDB::Table")
        }

    def queues(self) -> dict[str, Queue]:
        return {
            rid: Queue(
                rid,
                self.physical_name(rid),
                self.arn(rid),
                self.queue_url(rid),
                self.resolve(self.resource(rid).get("Properties", {})),
            )
            for rid in self._of_type("AWS::SQS::Queue")
        }

    def event_buses(self) -> dict[str, EventBus]:
        return {
            rid: EventBus(rid, self.physical_name(rid), self.arn(rid))
            for rid in self._of_type("AWS::Events::EventBus")
        }

    def archives(self) -> dict[str, Archive]:
        out = {}
        for rid in self._of_type("AWS::Events::Archive"):
            props = self.resolve(self.resource(rid)["Properties"])
            out[rid] = Archive(
                rid,
                self.physical_name(rid),
                props["SourceArn"],
                props.get("EventPattern"),
                props.get("RetentionDays"),
                props.get("Description", ""),
            )
        return out

    def rules(self) -> dict[str, Rule]:
        """AWS::Events::Rule resources, and rules SAM makes for Schedule/EventBridgeRule/CloudWatchEvent."""
        out: dict[str, Rule] = {}
        for rid in self._of_type("AWS::Events::Rule"):
            props = self.resolve(self.resource(rid)["Properties"])
            bus = self.bus_name_of(props.get("EventBusName"))
            targets = tuple(
                RuleTarget(
                    id=t["Id"],
                    arn=t["Arn"],
                    retry_policy=t.get("RetryPolicy", {}),
                    dead_letter_arn=t.get("DeadLetterConfig", {}).get("Arn"),
                    input=t.get("Input"),
                    input_path=t.get("InputPath"),
                    input_transformer=t.get("InputTransformer"),
                    role_arn=t.get("RoleArn"),
                )
                for t in props.get("Targets", [])
            )
            out[rid] = Rule(
                rid,
                self.physical_name(rid),
                self.arn(rid),
                bus,
                props.get("EventPattern"),
                props.get("ScheduleExpression"),
                props.get("State", "ENABLED") == "ENABLED",
                targets,
                props.get("Description", ""),
            )
        owners = [(rid, self.arn(rid)) for rid in self._of_type(*FUNCTION_TYPES, *STATE_MACHINE_TYPES)]
        for owner_id, owner_arn in owners:
            props = (
                self._merged_function_properties(owner_id)
                if self.type_of(owner_id) in FUNCTION_TYPES
                else self.resource(owner_id).get("Properties", {})
            )
            for name, spec in props.get("Events", {}).items():
                if spec["Type"] not in ("Schedule", "EventBridgeRule", "CloudWatchEvent", "ScheduleV2"):
                    continue
                if spec["Type"] == "ScheduleV2":
                    raise TemplateError(
                        f"{owner_id}.{name}: ScheduleV2 (EventBridge Scheduler) is not emulated"
                    )
                ev = self.resolve(spec.get("Properties", {}))
                rid = f"{owner_id}{name}"  # the logical id SAM gives the rule it generates
                bus = self.bus_name_of(ev.get("EventBusName"))
                rule_name = ev.get("Name") or ev.get("RuleName") or f"{STACK_NAME}-{rid}"
                enabled = ev.get("Enabled", True) is not False and ev.get("State", "ENABLED") == "ENABLED"
                target = RuleTarget(
                    id=ev.get("Target", {}).get("Id", f"{owner_id}{name}Target"),
                    arn=owner_arn,
                    retry_policy=ev.get("RetryPolicy", {}),
                    dead_letter_arn=ev.get("DeadLetterConfig", {}).get("Arn"),
                    input=ev.get("Input"),
                    input_path=ev.get("InputPath"),
                    input_transformer=ev.get("InputTransformer"),
                )
                out[rid] = Rule(
                    rid,
                    rule_name,
                    rule_arn(bus, rule_name),
                    bus,
                    ev.get("Pattern"),
                    ev.get("Schedule"),
                    enabled,
                    (target,),
                    ev.get("Description", ""),
                )
        return out

    def api_destinations(self) -> dict[str, ApiDestination]:
        """API destinations by ARN, each with its connection's authorization (API_KEY or BASIC) applied."""
        out: dict[str, ApiDestination] = {}
        for rid in self._of_type("AWS::Events::ApiDestination"):
            props = self.resolve(self.resource(rid)["Properties"])
            connection_id = next((c for c in self._of_type("AWS::Events::Connection")
                                  if self.arn(c) == props["ConnectionArn"]), None)
            if connection_id is None:
                raise TemplateError(f"{rid}: ConnectionArn is not a connection of this template")
            auth = self.resolve(self.resource(connection_id)["Properties"])
            kind, parameters = auth["AuthorizationType"], auth.get("AuthParameters", {})
            if kind == "API_KEY":
                key = parameters["ApiKeyAuthParameters"]
                headers = [(key["ApiKeyName"], key["ApiKeyValue"])]
            elif kind == "BASIC":
                basic = parameters["BasicAuthParameters"]
                token = base64.b64encode(f"{basic['Username']}:{basic['Password']}".encode()).decode()
                headers = [("Authorization", f"Basic {token}")]
            else:
                raise TemplateError(f"{connection_id}: AuthorizationType {kind} is not emulated (API_KEY, BASIC are)")
            extra = parameters.get("InvocationHttpParameters", {})
            headers += [(h["Key"], h["Value"]) for h in extra.get("HeaderParameters", [])]
            query = tuple((q["Key"], q["Value"]) for q in extra.get("QueryStringParameters", []))
            rate = props.get("InvocationRateLimitPerSecond")
            out[self.arn(rid)] = ApiDestination(rid, self.arn(rid), props["InvocationEndpoint"], props["HttpMethod"],
                                                int(rate) if rate is not None else None, tuple(headers), query)
        return out

    def state_machines(self) -> dict[str, StateMachine]:
        out = {}
        for rid in self._of_type(*STATE_MACHINE_TYPES):
            props = self.resource(rid).get("Properties", {})
            if "DefinitionUri" in props:
                definition = (self.root / self.resolve(props["DefinitionUri"])).read_text()
            elif "Definition" in props:
                definition = json.dumps(self.resolve(props["Definition"]))
            else:
                definition = self.resolve(props["DefinitionString"])
            for key, value in self.resolve(props.get("DefinitionSubstitutions", {})).items():
                definition = definition.replace("${" + key + "}", str(value))
            out[rid] = StateMachine(
                rid,
                self.physical_name(rid),
                self.arn(rid),
                definition,
                str(self.resolve(props.get("Type", "STANDARD"))),
            )
        return out

    def receipt_rules(self) -> list[ReceiptRule]:
        """SES receipt rules (``AWS::SES::ReceiptRule``), in template order, their actions resolved."""
        out = []
        for rid in self._of_type("AWS::SES::ReceiptRule"):
            props = self.resolve(self.resource(rid)["Properties"])
            rule = props["Rule"]
            actions = tuple(ReceiptAction(kind, dict(spec)) for action in rule.get("Actions", [])
                            for kind, spec in action.items())
            arn = (f"arn:{PARTITION}:ses:{REGION}:{ACCOUNT_ID}:receipt-rule-set/{props['RuleSetName']}"
                   f":receipt-rule/{rule.get('Name', rid)}")
            out.append(ReceiptRule(rid, str(rule.get("Name", rid)), str(props["RuleSetName"]), arn,
                                   tuple(str(r) for r in rule.get("Recipients", []) if r),
                                   rule.get("Enabled", True) is not False, bool(rule.get("ScanEnabled", False)),
                                   actions))
        return out

    def sender_address(self) -> str | None:
        """The SES identity the project sends from: the SenderAddress parameter."""
        return self._parameters.get("SenderAddress")

    def apis(self) -> list[str]:
        return self._of_type("AWS::Serverless::Api")

    def api_stage(self, api_id: str | None = None) -> str:
        """The Api's StageName (SAM's implicit API calls its stage Prod)."""
        ids = [api_id] if api_id else self.apis()
        if not ids:
            return "Prod"
        props = {**self._globals("Api"), **self.resource(ids[0]).get("Properties", {})}
        return str(self.resolve(props.get("StageName", "Prod")))

    def api_auth(self, api_id: str | None = None) -> dict[str, Any]:
        """The Api's Auth configuration (DefaultAuthorizer, Authorizers...), resolved; Globals.Api merged."""
        ids = [api_id] if api_id else self.apis()
        if not ids:
            return self.resolve(self._globals("Api").get("Auth", {}))
        props = {**self._globals("Api"), **self.resource(ids[0]).get("Properties", {})}
        return self.resolve(props.get("Auth", {}))

    def api_routes(self) -> list[ApiRoute]:
        routes = []
        for rid in self._of_type(*FUNCTION_TYPES):
            for name, spec in self._merged_function_properties(rid).get("Events", {}).items():
                if spec["Type"] != "Api":
                    continue
                raw = spec.get("Properties", {})
                api_id = self.referenced_id(raw.get("RestApiId")) if raw.get("RestApiId") else None
                props = self.resolve(raw)
                authorizer = props.get("Auth", {}).get("Authorizer")
                if authorizer is None:
                    authorizer = self.api_auth(api_id).get("DefaultAuthorizer")
                routes.append(
                    ApiRoute(
                        rid,
                        str(props["Method"]).upper(),
                        props["Path"],
                        None if authorizer in (None, "NONE") else authorizer,
                        api_id,
                        name,
                        _int_or_none(props.get("TimeoutInMillis")),
                    )
                )
        return routes

    def gateway_responses(self) -> list[GatewayResponse]:
        """The Api's own ``GatewayResponses``: the only gateway responses a SAM deployment carries.

        Separate ``AWS::ApiGateway::GatewayResponse`` resources are not read: SAM's deployment neither depends on
        them nor changes with them, and the next re-import of the API body drops them, so on AWS they come and
        go. Header values stay API Gateway mapping expressions (``'literal'``, ``method.request.header.Origin``);
        the gateway evaluates them per request.
        """
        out = []
        for api_id in self.apis():
            own = self.resolve(self.resource(api_id).get("Properties", {}).get("GatewayResponses", {}))
            for response_type, spec in own.items():
                out.append(
                    GatewayResponse(
                        response_type,
                        _int_or_none(spec.get("StatusCode")),
                        dict(spec.get("ResponseParameters", {}).get("Headers", {})),
                        _first_template(spec.get("ResponseTemplates")),
                    )
                )
        return out

    def api_method_settings(self, api_id: str | None = None) -> list[dict[str, Any]]:
        """The Api stage's MethodSettings (throttling per resource and method), resolved; Globals.Api merged."""
        ids = [api_id] if api_id else self.apis()
        props = {**self._globals("Api"), **(self.resource(ids[0]).get("Properties", {}) if ids else {})}
        return list(self.resolve(props.get("MethodSettings", [])))

    def detached_gateway_responses(self) -> list[str]:
        """Logical ids of AWS::ApiGateway::GatewayResponse resources, which a SAM deployment does not carry."""
        return self._of_type("AWS::ApiGateway::GatewayResponse")

def rule_arn(bus_name: str, rule_name: str) -> str:
    """moto's shape: the bus name appears in a rule's ARN unless it is the default bus."""
    bus = "" if bus_name == DEFAULT_BUS else f"{bus_name}/"
    return f"arn:{PARTITION}:events:{REGION}:{ACCOUNT_ID}:rule/{bus}{rule_name}"


def _env_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise TemplateError(f"Environment value {value!r} did not resolve to a string")
    return str(value)


def _int_or_none(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _first_template(templates: dict[str, str] | None) -> str | None:
    if not templates:
        return None
    return templates.get("application/json", next(iter(templates.values())))
