"""Our cfn-lint rules pass on template.yaml and catch what they are for."""

from __future__ import annotations

from pathlib import Path

from cfnlint.api import ManualArgs, lint

ROOT = Path(__file__).resolve().parents[2]
RULES = str(ROOT / "infra" / "cfn_rules")


def rule_ids(text: str) -> set[str]:
    matches = lint(text, config=ManualArgs(append_rules=[RULES], regions=["eu-west-2"]))
    return {m.rule.id for m in matches}


def test_the_template_meets_the_standards() -> None:
    assert rule_ids((ROOT / "template.yaml").read_text()) == set()


def test_a_function_without_its_log_group_is_caught() -> None:
    text = (ROOT / "template.yaml").read_text().replace(
        "      LoggingConfig:\n        LogGroup: !Ref LifecycleLogGroup\n", "", 1)
    assert "E9001" in rule_ids(text)


def test_a_dead_letter_queue_without_alarm_is_caught() -> None:
    text = (ROOT / "template.yaml").read_text().replace(
        "Dimensions: [{ Name: QueueName, Value: !GetAtt NotificationsDLQ.QueueName }]",
        "Dimensions: [{ Name: QueueName, Value: !GetAtt ScheduledDLQ.QueueName }]", 1)
    assert "E9002" in rule_ids(text)


def test_a_stream_without_failure_destination_is_caught() -> None:
    text = (ROOT / "template.yaml").read_text().replace(
        "            DestinationConfig:\n              OnFailure:\n                Type: SQS\n"
        "                Destination: !GetAtt OutboxPublisherDLQ.Arn\n", "", 1)
    assert "E9003" in rule_ids(text)


def test_an_async_function_without_failure_destination_is_caught() -> None:
    text = (ROOT / "template.yaml").read_text().replace(
        "      EventInvokeConfig:\n        MaximumRetryAttempts: 2\n        DestinationConfig:\n          OnFailure:\n"
        "            Type: SQS\n            Destination: !GetAtt ScheduledDLQ.Arn\n", "", 1)
    assert "E9003" in rule_ids(text)


def test_a_queue_target_without_dead_letter_queue_is_caught() -> None:
    text = (ROOT / "template.yaml").read_text().replace(
        "          DeadLetterConfig:\n            Arn: !GetAtt NotificationsDeliveryDLQ.Arn\n", "", 1)
    assert "E9003" in rule_ids(text)
