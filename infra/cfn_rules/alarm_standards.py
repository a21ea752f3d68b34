"""cfn-lint rules: every way a part of Amends can fail raises an alarm, and every alarm notifies the alarm topic.

Checked on the template as written, SAM resources included (cfn-lint merges SAM Globals first). cfn-lint loads
each rule file on its own, so this one keeps its own small helpers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
STATE_MACHINE_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
RULE_EVENT_TYPES = ("EventBridgeRule", "CloudWatchEvent", "Schedule")  # SAM makes an AWS::Events::Rule of each
BATCH_EVENT_TYPES = ("SQS", "DynamoDB", "Kinesis")
STREAM_EVENT_TYPES = ("DynamoDB", "Kinesis")


def _resources(cfn: Any, *types: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in cfn.template.get("Resources", {}).items() if r.get("Type") in types}


def _referenced(value: Any) -> Iterator[str]:
    """Logical ids a value refers to, however deep (Ref, GetAtt, and inside Select/Split/Join/Sub)."""
    if isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                yield arg
            elif key == "Fn::GetAtt":
                yield (arg[0] if isinstance(arg, list) else str(arg).split(".")[0])
            else:
                yield from _referenced(arg)
    elif isinstance(value, list):
        for item in value:
            yield from _referenced(item)


def _watched(cfn: Any, namespace: str | None, metric: str, dimension: str | None = None) -> set[str]:
    """Logical ids named (in the given dimension, or any) by alarms on this metric."""
    watched: set[str] = set()
    for alarm in _resources(cfn, "AWS::CloudWatch::Alarm").values():
        props = alarm.get("Properties", {})
        if props.get("MetricName") != metric or (namespace and props.get("Namespace") != namespace):
            continue
        for d in props.get("Dimensions", []):
            if isinstance(d, dict) and (dimension is None or d.get("Name") == dimension):
                watched |= set(_referenced(d.get("Value")))
    return watched


def _events(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    events = resource.get("Properties", {}).get("Events", {})
    return events if isinstance(events, dict) else {}


def _require(cfn: Any, owners: list[str], namespace: str, metrics: tuple[str, ...], dimension: str) -> list[RuleMatch]:
    """A match for each owner that no alarm on each metric names in the dimension."""
    matches = []
    for metric in metrics:
        watched = _watched(cfn, namespace, metric, dimension)
        matches += [RuleMatch(["Resources", owner], f"{owner} needs an alarm on {namespace} {metric} "
                                                    f"({dimension}: !Ref {owner})")
                    for owner in owners if owner not in watched]
    return matches


SOURCE_URL = "https://github.com/amends/amends/blob/main/README.md#design-notes"


class FunctionsHaveErrorAndThrottleAlarms(CloudFormationLintRule):
    """A function that fails or is throttled is seen: Errors and Throttles alarms for every function."""

    id = "E9004"
    shortdesc = "Function without Errors and Throttles alarms"
    description = "Each Lambda function has alarms on AWS/Lambda Errors and Throttles with its FunctionName."
    source_url = SOURCE_URL
    tags = ["amends", "alarms"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        return _require(cfn, list(_resources(cfn, *FUNCTION_TYPES)), "AWS/Lambda", ("Errors", "Throttles"), "FunctionName")


class BatchConsumersHaveFailureAlarms(CloudFormationLintRule):
    """Partial batch failures leave Errors at zero: consumers that report them alarm on their FailedRecords metric
    (emitted by the handler in POWERTOOLS_METRICS_NAMESPACE); stream consumers also alarm on IteratorAge."""

    id = "E9005"
    shortdesc = "Batch consumer without a FailedRecords or IteratorAge alarm"
    description = ("Each function whose SQS/stream event reports batch item failures has an alarm on FailedRecords "
                   "(dimension function_name); each stream consumer one on AWS/Lambda IteratorAge.")
    source_url = SOURCE_URL
    tags = ["amends", "alarms"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        partial, streams = [], []
        for name, fn in _resources(cfn, *FUNCTION_TYPES).items():
            for event in _events(fn).values():
                props = event.get("Properties", {})
                if event.get("Type") in BATCH_EVENT_TYPES and "ReportBatchItemFailures" in props.get(
                        "FunctionResponseTypes", []):
                    partial.append(name)
                if event.get("Type") in STREAM_EVENT_TYPES:
                    streams.append(name)
        matches = []
        for name in partial:
            namespace = _function_env(cfn, name).get("POWERTOOLS_METRICS_NAMESPACE")
            if not isinstance(namespace, str):
                matches.append(RuleMatch(["Resources", name], f"{name} reports batch item failures but has no "
                                                              f"POWERTOOLS_METRICS_NAMESPACE to emit FailedRecords in"))
                continue
            matches += _require(cfn, [name], namespace, ("FailedRecords",), "function_name")
        return matches + _require(cfn, streams, "AWS/Lambda", ("IteratorAge",), "FunctionName")


def _function_env(cfn: Any, name: str) -> dict[str, Any]:
    variables = cfn.template["Resources"][name].get("Properties", {}).get("Environment", {}).get("Variables", {})
    return variables if isinstance(variables, dict) else {}


class StateMachinesHaveExecutionAlarms(CloudFormationLintRule):
    """An execution that fails, times out or is aborted is seen."""

    id = "E9006"
    shortdesc = "State machine without execution alarms"
    description = "Each state machine has alarms on AWS/States ExecutionsFailed, ExecutionsTimedOut, ExecutionsAborted."
    source_url = SOURCE_URL
    tags = ["amends", "alarms"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        return _require(cfn, list(_resources(cfn, *STATE_MACHINE_TYPES)), "AWS/States",
                        ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"), "StateMachineArn")


class RulesHaveFailedInvocationAlarms(CloudFormationLintRule):
    """An event EventBridge cannot deliver is seen, for our rules and for the ones SAM makes from events."""

    id = "E9007"
    shortdesc = "EventBridge rule without a FailedInvocations alarm"
    description = ("Each AWS::Events::Rule, and each rule SAM generates from a Schedule/EventBridgeRule/CloudWatchEvent "
                   "event (logical id <Owner><Event>), has an alarm on AWS/Events FailedInvocations naming it.")
    source_url = SOURCE_URL
    tags = ["amends", "alarms"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        rules = [(name, ["Resources", name]) for name in _resources(cfn, "AWS::Events::Rule")]
        for owner, resource in _resources(cfn, *FUNCTION_TYPES, *STATE_MACHINE_TYPES).items():
            rules += [(f"{owner}{name}", ["Resources", owner, "Properties", "Events", name])
                      for name, event in _events(resource).items() if event.get("Type") in RULE_EVENT_TYPES]
        watched = _watched(cfn, "AWS/Events", "FailedInvocations", "RuleName")
        return [RuleMatch(path, f"rule {rule} needs an alarm on AWS/Events FailedInvocations "
                                f"(RuleName: !Ref {rule}, or its part after '|' on a custom bus)")
                for rule, path in rules if rule not in watched]


class AlarmsNotifyTheTopic(CloudFormationLintRule):
    """An alarm nobody hears is no alarm."""

    id = "E9008"
    shortdesc = "Alarm that notifies no topic"
    description = "Each CloudWatch alarm has AlarmActions that include an SNS topic of this template."
    source_url = SOURCE_URL
    tags = ["amends", "alarms"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        topics = set(_resources(cfn, "AWS::SNS::Topic"))
        return [RuleMatch(["Resources", name, "Properties"], f"{name} must notify an SNS topic (AlarmActions)")
                for name, alarm in _resources(cfn, "AWS::CloudWatch::Alarm").items()
                if not topics & set(_referenced(alarm.get("Properties", {}).get("AlarmActions", [])))]
