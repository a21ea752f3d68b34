"""Batch consumers report how many records failed as an EMF metric, which the template's alarms watch.

Lambda's Errors metric stays at zero when a batch fails only in part, so without this a stuck record is silent.
"""

from __future__ import annotations

import copy
import json
import uuid

import pytest
from amends_local.environments import FunctionError

from .events import load


class FunctionLog:
    """What one function wrote to its log (the quiet stack keeps one file per function) after this point."""

    def __init__(self, stack, logical_id: str) -> None:
        self.path = stack.log_dir / f"{logical_id}.log"
        self.start = self.path.stat().st_size if self.path.exists() else 0

    def read(self) -> str:
        with self.path.open("rb") as log:
            log.seek(self.start)
            return log.read().decode("utf-8", errors="replace")


def failed_records(output: str, function_name: str) -> list[int]:
    """FailedRecords values of the EMF documents the named function printed, with the dimensions alarms use.

    The stack's own pipeline may invoke the same function meanwhile, so callers look for their value among these.
    """
    values = []
    for line in output.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document = json.loads(line)
        if document.get("function_name") != function_name or "FailedRecords" not in document:
            continue
        [directive] = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Amends"
        assert sorted(directive["Dimensions"][0]) == ["function_name", "service"]
        assert document["service"] == "amends"
        values.append(sum(document["FailedRecords"]))  # Powertools writes a metric's values as a list
    return values


def test_the_outbox_publisher_counts_the_records_it_reports(stack) -> None:
    event = load("dynamodb_outbox_insert.json")
    bad = copy.deepcopy(event["Records"][0])
    bad["dynamodb"]["NewImage"]["event"] = {"S": '{"nonsense": "x"}'}
    event["Records"] = [bad]
    log = FunctionLog(stack, "OutboxPublisherFunction")
    with pytest.raises(FunctionError) as failed:  # the whole batch failed: Lambda retries it
        stack.functions.invoke("OutboxPublisherFunction", event)
    assert failed.value.error_type == "BatchProcessingError"
    name = stack.template.functions()["OutboxPublisherFunction"].name
    assert 1 in failed_records(log.read(), name)


def test_the_notifications_function_counts_the_messages_it_reports(stack) -> None:
    event = load("sqs_notification_acknowledged.json")
    opened = load("eventbridge_case_opened.json")  # needs no notification, so it succeeds without a case
    opened["detail"]["event_id"] = str(uuid.uuid4())
    good, bad = copy.deepcopy(event["Records"][0]), copy.deepcopy(event["Records"][0])
    good["body"], good["messageId"] = json.dumps(opened), "good"
    bad["body"], bad["messageId"] = "not json", "bad"
    event["Records"] = [good, bad]
    log = FunctionLog(stack, "NotificationsFunction")
    assert stack.functions.invoke("NotificationsFunction", event) == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    name = stack.template.functions()["NotificationsFunction"].name
    assert 1 in failed_records(log.read(), name)


def test_the_sweeper_reports_a_run_without_failures(stack) -> None:
    log = FunctionLog(stack, "OutboxSweeperFunction")
    stack.functions.invoke("OutboxSweeperFunction", load("schedule_outbox_sweep.json"))
    name = stack.template.functions()["OutboxSweeperFunction"].name
    values = failed_records(log.read(), name)
    assert values and set(values) == {0}
