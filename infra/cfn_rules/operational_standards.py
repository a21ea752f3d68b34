"""cfn-lint rules for Amends' operational standards, checked on the template as written (SAM resources included).

Loaded through .cfnlintrc (append_rules), so `cfn-lint template.yaml` in CI enforces them.
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch


FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


def _resources(cfn: Any, *types: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in cfn.template.get("Resources", {}).items() if r.get("Type") in types}


def _ref(value: Any) -> str | None:
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            att = value["Fn::GetAtt"]
            return att[0] if isinstance(att, list) else str(att).split(".")[0]
    return None


class FunctionLogGroupWithRetention(CloudFormationLintRule):
    """Every function writes to a log group of ours that has a retention period (never 'keep forever')."""

    id = "E9001"
    shortdesc = "Function without an explicit log group with retention"
    description = "Each Lambda function sets LoggingConfig.LogGroup to an AWS::Logs::LogGroup with RetentionInDays."
    source_url = "https://github.com/amends/amends/blob/main/README.md#design-notes"
    tags = ["amends", "logging"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        groups = _resources(cfn, "AWS::Logs::LogGroup")
        matches = []
        functions = _resources(cfn, *FUNCTION_TYPES)
        for name, fn in functions.items():
            group = _ref(fn.get("Properties", {}).get("LoggingConfig", {}).get("LogGroup"))
            if group not in groups:
                matches.append(RuleMatch(["Resources", name, "Properties"],
                                         f"{name} must log to an AWS::Logs::LogGroup of this template "
                                         f"(LoggingConfig.LogGroup: !Ref <LogGroup>)"))
            elif "RetentionInDays" not in groups[group].get("Properties", {}):
                matches.append(RuleMatch(["Resources", group, "Properties"],
                                         f"log group {group} of {name} needs RetentionInDays"))
        return matches


class QueuesHaveDeadLettersAndAlarms(CloudFormationLintRule):
    """A work queue redrives to a dead-letter queue; a dead-letter queue has an alarm on waiting messages."""

    id = "E9002"
    shortdesc = "Queue without a dead-letter queue, or dead-letter queue without an alarm"
    description = ("Each SQS queue either has a RedrivePolicy, or is a dead-letter queue (named in a redrive "
                   "policy or a failure destination) watched by an alarm on ApproximateNumberOfMessagesVisible.")
    source_url = "https://github.com/amends/amends/blob/main/README.md#design-notes"
    tags = ["amends", "sqs", "alarms"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        watched = set()
        for alarm in _resources(cfn, "AWS::CloudWatch::Alarm").values():
            props = alarm.get("Properties", {})
            if props.get("MetricName") == "ApproximateNumberOfMessagesVisible":
                watched |= {_ref(d.get("Value")) for d in props.get("Dimensions", [])}
        matches = []
        for name, queue in _resources(cfn, "AWS::SQS::Queue").items():
            if "RedrivePolicy" in queue.get("Properties", {}):
                continue
            if name not in watched:
                matches.append(RuleMatch(["Resources", name],
                                         f"{name} has no RedrivePolicy, so it must be a dead-letter queue with an "
                                         f"alarm on ApproximateNumberOfMessagesVisible"))
        return matches


class AsyncTriggersHaveFailureDestinations(CloudFormationLintRule):
    """Nothing a trigger cannot deliver disappears: stream mappings and rule targets name where failures go."""

    id = "E9003"
    shortdesc = "Asynchronous trigger without a failure destination"
    description = ("Stream event source mappings set DestinationConfig.OnFailure; every EventBridge rule target "
                   "sets a RetryPolicy and a DeadLetterConfig.")
    source_url = "https://github.com/amends/amends/blob/main/README.md#design-notes"
    tags = ["amends", "reliability"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches = []
        sam = _resources(cfn, "AWS::Serverless::Function", "AWS::Serverless::StateMachine")
        for name, resource in sam.items():
            for event_name, event in resource.get("Properties", {}).get("Events", {}).items():
                props = event.get("Properties", {})
                path = ["Resources", name, "Properties", "Events", event_name, "Properties"]
                if event.get("Type") in {"DynamoDB", "Kinesis"} and not props.get("DestinationConfig", {}).get("OnFailure"):
                    matches.append(RuleMatch(path, f"{name}.{event_name} reads a stream and needs "
                                                   f"DestinationConfig.OnFailure"))
                if event.get("Type") in {"EventBridgeRule", "CloudWatchEvent", "Schedule"}:
                    for needed in ("RetryPolicy", "DeadLetterConfig"):
                        if not props.get(needed):
                            matches.append(RuleMatch(path, f"{name}.{event_name} needs a {needed}"))
                    # The rule's DLQ gets only events it could not hand over; a function that fails after being
                    # invoked asynchronously is retried by Lambda and then dropped unless it names a destination.
                    invoke_config = resource.get("Properties", {}).get("EventInvokeConfig", {})
                    if resource.get("Type") == "AWS::Serverless::Function" and not (
                            invoke_config.get("DestinationConfig", {}).get("OnFailure")
                            or resource.get("Properties", {}).get("DeadLetterQueue")):
                        matches.append(RuleMatch(["Resources", name, "Properties"],
                                                 f"{name} is invoked asynchronously by {event_name} and needs "
                                                 f"EventInvokeConfig.DestinationConfig.OnFailure"))
        for name, mapping in _resources(cfn, "AWS::Lambda::EventSourceMapping").items():
            props = mapping.get("Properties", {})
            source = _ref(props.get("EventSourceArn"))
            source_type = cfn.template["Resources"].get(source, {}).get("Type") if source else None
            if source_type == "AWS::DynamoDB::Table" and not props.get("DestinationConfig", {}).get("OnFailure"):
                matches.append(RuleMatch(["Resources", name, "Properties"],
                                         f"{name} reads a stream and needs DestinationConfig.OnFailure"))
        # Queue targets too: a queue's redrive policy covers what reached the queue, not what EventBridge could
        # not put into it (a policy or key it may not use, a deleted queue).
        for name, rule in _resources(cfn, "AWS::Events::Rule").items():
            for i, target in enumerate(rule.get("Properties", {}).get("Targets", [])):
                for needed in ("RetryPolicy", "DeadLetterConfig"):
                    if not target.get(needed):
                        matches.append(RuleMatch(["Resources", name, "Properties", "Targets", i],
                                                 f"target {target.get('Id')} of {name} needs a {needed}"))
        return matches


class FunctionLogLevelTakesEffect(CloudFormationLintRule):
    """With JSON logs, Lambda filters the function's log lines by ApplicationLogLevel (INFO when absent), and
    Powertools defers to it: without it the LogLevel parameter would change nothing."""

    id = "E9009"
    shortdesc = "JSON-logging function without an application log level"
    description = "Each function whose LoggingConfig.LogFormat is JSON sets LoggingConfig.ApplicationLogLevel."
    source_url = "https://github.com/amends/amends/blob/main/README.md#design-notes"
    tags = ["amends", "logging"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        functions = _resources(cfn, *FUNCTION_TYPES)
        matches = []
        for name, fn in functions.items():
            config = fn.get("Properties", {}).get("LoggingConfig", {})
            if config.get("LogFormat") == "JSON" and not config.get("ApplicationLogLevel"):
                matches.append(RuleMatch(["Resources", name, "Properties"],
                                         f"{name} logs JSON and needs LoggingConfig.ApplicationLogLevel "
                                         f"(e.g. !Ref LogLevel, in Globals)"))
        return matches
