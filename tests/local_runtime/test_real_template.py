"""The real template.yaml: every resource it declares is created locally, or accounted for."""

from __future__ import annotations

import json

import pytest
from amends_local.provision import ACCOUNTED_FOR, PROVIDED_ELSEWHERE, bridges

from .conftest import ROOT, aws, running_stack


@pytest.fixture(scope="module")
def real_stack(dynamodb_endpoint, tmp_path_factory):
    with running_stack(ROOT, dynamodb_endpoint, tmp_path_factory.mktemp("real-state")) as stack:
        yield stack


def test_every_resource_is_created_or_accounted_for(real_stack) -> None:
    template, report = real_stack.template, real_stack.provisioned
    missing = set(template.resources) - set(report)
    assert not missing, f"resources the runtime neither created nor explained: {missing}"
    unexplained = {rid: why for rid, why in report.items() if why.startswith("not emulated")}
    assert not unexplained, unexplained
    for rid, resource in template.resources.items():
        if resource["Type"] in PROVIDED_ELSEWHERE:
            assert report[rid] == PROVIDED_ELSEWHERE[resource["Type"]]
        if resource["Type"] in ACCOUNTED_FOR:
            assert report[rid] == ACCOUNTED_FOR[resource["Type"]]


def test_the_data_key_reaches_the_emulators(real_stack) -> None:
    """Every queue, the alarm topic and every log group name the stack's key, as the template resolves it."""
    template = real_stack.template
    key_id, key_arn = template.resolve({"Ref": "DataKey"}), template.resolve({"Fn::GetAtt": ["DataKey", "Arn"]})
    assert key_arn.endswith(f":key/{key_id}")
    sqs = aws(real_stack, "sqs")
    for queue in template.queues().values():
        attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["KmsMasterKeyId"])["Attributes"]
        assert attributes["KmsMasterKeyId"] == key_id, queue.logical_id
    topic = template.resolve({"Ref": "AlarmTopic"})
    assert aws(real_stack, "sns").get_topic_attributes(TopicArn=topic)["Attributes"]["KmsMasterKeyId"] == key_id
    groups = aws(real_stack, "logs").describe_log_groups()["logGroups"]
    assert {g["logGroupName"]: g.get("kmsKeyId") for g in groups} == {
        template.physical_name(rid): key_arn for rid, r in template.resources.items() if r["Type"] == "AWS::Logs::LogGroup"
    }


def test_tables(real_stack) -> None:
    ddb = aws(real_stack, "dynamodb")
    for table in real_stack.template.tables().values():
        described = ddb.describe_table(TableName=table.name)["Table"]
        assert described["KeySchema"] == table.properties["KeySchema"]
        assert {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])} == {
            i["IndexName"] for i in table.properties.get("GlobalSecondaryIndexes", [])
        }
        if "StreamSpecification" in table.properties:
            assert (
                described["StreamSpecification"]["StreamViewType"]
                == table.properties["StreamSpecification"]["StreamViewType"]
            )
        ttl = ddb.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]
        assert ttl.get("AttributeName") == table.properties["TimeToLiveSpecification"]["AttributeName"]


def test_queues_with_their_redrive_policies(real_stack) -> None:
    sqs = aws(real_stack, "sqs")
    for queue in real_stack.template.queues().values():
        attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
        assert attributes["QueueArn"] == queue.arn
        if queue.redrive_policy:
            assert json.loads(attributes["RedrivePolicy"]) == queue.redrive_policy
        assert attributes["VisibilityTimeout"] == str(queue.visibility_timeout)


def test_bus_archive_rules_and_targets(real_stack) -> None:
    events = aws(real_stack, "events")
    for bus in real_stack.template.event_buses().values():
        assert events.describe_event_bus(Name=bus.name)["Arn"] == bus.arn
    archives = {a["ArchiveName"] for a in events.list_archives()["Archives"]}
    assert {a.name for a in real_stack.template.archives().values()} <= archives
    bridged = {(b.rule.name, b.target.id): b for b in bridges(real_stack.template)}
    for rule in real_stack.template.rules().values():
        described = events.describe_rule(Name=rule.name, EventBusName=rule.bus_name)
        assert described["Arn"] == rule.arn
        if rule.event_pattern:
            assert json.loads(described["EventPattern"]) == rule.event_pattern
        targets = events.list_targets_by_rule(Rule=rule.name, EventBusName=rule.bus_name)["Targets"]
        for target in rule.targets:
            bridge = bridged.get((rule.name, target.id))
            expected = bridge.queue_arn if bridge else target.arn
            assert {"Id": target.id, "Arn": expected} in [{"Id": t["Id"], "Arn": t["Arn"]} for t in targets]
    # Every target is bridged: the schedules' functions (moto's EventBridge delivers to queues, not to functions) and
    # the queues (so each delivery is checked against the queue's policy, as EventBridge's is).
    assert {b.rule.logical_id for b in bridged.values()} == {
        "OutboxSweeperFunctionSweep", "TimerSweepFunctionSweep", "AcknowledgementSentRule", "LifecycleEventsRule"}
    assert real_stack.template.rules()["LifecycleEventsRule"].targets[0].service == "sqs"


def test_functions_state_machines_and_identity(real_stack) -> None:
    names = {f["FunctionName"] for f in aws(real_stack, "lambda").list_functions()["Functions"]}
    assert {fn.name for fn in real_stack.template.functions().values()} <= names
    sfn = aws(real_stack, "stepfunctions")
    for machine in real_stack.template.state_machines().values():
        definition = json.loads(sfn.describe_state_machine(stateMachineArn=machine.arn)["definition"])
        task = definition["States"]["Acknowledge"]["Parameters"]["FunctionName"]
        assert task == real_stack.template.functions()["LifecycleFunction"].arn
    assert real_stack.template.sender_address() in aws(real_stack, "ses").list_identities()["Identities"]
    alarms = {a["AlarmName"] for a in aws(real_stack, "cloudwatch").describe_alarms()["MetricAlarms"]}
    assert len(alarms) >= 10


def test_every_function_has_a_warm_environment(real_stack) -> None:
    for logical_id in real_stack.template.functions():
        assert real_stack.functions.environment_count(logical_id) >= 1


def test_rules_resolve_as_cloudformation_resolves_them(real_stack) -> None:
    """Ref of a rule is ``<bus>|<name>`` on a custom bus (alarms split it); SAM's generated rules resolve too."""
    template = real_stack.template
    rules = template.rules()
    for logical_id in ("AcknowledgementSentRule", "LifecycleEventsRule"):
        rule = rules[logical_id]
        assert template.resolve({"Ref": logical_id}) == f"{rule.bus_name}|{rule.name}"
        assert template.resolve({"Fn::GetAtt": [logical_id, "Arn"]}) == rule.arn
    assert template.resolve({"Ref": "OutboxSweeperFunctionSweep"}) == rules["OutboxSweeperFunctionSweep"].name
