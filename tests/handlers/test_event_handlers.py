"""The stream, Step Functions, SQS and scheduled handlers fed the sample events."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from amends import wiring
from amends.adapters.dynamodb import _to_item, event_from_outbox_image, outbox_item
from amends.domain.events import DomainEvent
from amends.domain.model import Actor, Channel, Person, Submission, open_case
from amends.domain.reference import new_reference
from amends_local.lambdas import FunctionError

from ..conftest import archived_events, sent_emails
from .events import load


def new_case(email: str = "ada@example.com", **kw):
    return new_case_at(datetime.now(UTC), email, **kw)


def new_case_at(at: datetime, email: str = "ada@example.com", *, quiet: bool = False, **kw):
    """A case opened ``at``; ``quiet``: recorded without its CaseOpened event, so no lifecycle works on it."""
    sub = Submission(complainant=Person(name="Ada", email=email), product_or_service="Loan", description="d",
                     remedy_sought="unknown", **kw)
    change = open_case(reference=new_reference(at), access_token_hash="h" * 64, submission=sub, channel=Channel.WEB,
                       actor=Actor(kind="complainant", id="c"), received_at=at, received_at_local=at)
    wiring.case_repository().record(change.model_copy(update={"events": ()}) if quiet else change)
    return change


def test_outbox_publisher_publishes_and_marks(stack) -> None:
    change = new_case()
    event = load("dynamodb_outbox_insert.json")
    event["Records"][0]["dynamodb"]["NewImage"] = _to_item(outbox_item(change.events[0]))
    result = stack.functions.invoke("OutboxPublisherFunction", event)
    assert result == {"batchItemFailures": []}
    pending = wiring.case_repository().pending_events(datetime(2100, 1, 1, tzinfo=UTC).isoformat(), 1000)
    assert change.events[0].event_id not in {e.event_id for e in pending}


def test_outbox_publisher_reports_a_bad_record_alone(stack) -> None:
    good = new_case()
    event = load("dynamodb_outbox_insert.json")
    record = event["Records"][0]
    bad = copy.deepcopy(record)
    bad["dynamodb"]["NewImage"]["event"] = {"S": '{"nonsense": "x"}'}
    bad["dynamodb"]["SequenceNumber"] = "999"
    record["dynamodb"]["NewImage"] = _to_item(outbox_item(good.events[0]))
    event["Records"] = [record, bad]
    assert stack.functions.invoke("OutboxPublisherFunction", event) == {"batchItemFailures": [{"itemIdentifier": "999"}]}


def acknowledge_entries(reference: str) -> list:
    return [e for e in wiring.case_repository().get_with_timeline(reference).timeline if e.action == "acknowledge"]


def test_lifecycle_acknowledges_once(stack) -> None:
    # The stack's own state machine races this test to acknowledge the case: whoever is first, exactly one
    # acknowledgement is recorded and a repeat of the step is refused by name (the state machine catches it).
    change = new_case()
    event = {**load("stepfunctions_acknowledge.json"), "case_reference": change.case.reference}
    try:
        result = stack.functions.invoke("LifecycleFunction", event)
        assert result == {"case_reference": change.case.reference, "status": "acknowledged", "version": 2}
    except FunctionError as error:  # the background lifecycle got there first
        assert error.error_type == "ActionNotAllowed", error
    with pytest.raises(FunctionError, match="it is acknowledged") as refused:
        stack.functions.invoke("LifecycleFunction", event)
    assert refused.value.error_type == "ActionNotAllowed"
    stack.wait_until_idle(timeout=30)
    assert len(acknowledge_entries(change.case.reference)) == 1


def outbox_events(reference: str, event_type: str) -> list[DomainEvent]:
    repo = wiring.case_repository()
    items = repo.client.query(TableName=repo.table, KeyConditionExpression="pk = :pk AND begins_with(sk, :o)",
                              ExpressionAttributeValues={":pk": {"S": f"CASE#{reference}"}, ":o": {"S": "OUTBOX#"}})
    events = [event_from_outbox_image(item) for item in items["Items"]]
    return [e for e in events if e.type == event_type]


def test_notifications_send_the_acknowledgement_once(stack) -> None:
    address = f"{uuid.uuid4().hex}@example.com"
    change = new_case(email=address)
    stack.wait_until_idle(timeout=30)  # the pipeline acknowledges the case and mails the acknowledgement
    [ack] = outbox_events(change.case.reference, "CaseStatusChanged")
    event = load("sqs_notification_acknowledged.json")
    body = json.loads(event["Records"][0]["body"])
    body["detail"] = ack.model_dump(mode="json")
    event["Records"][0]["body"] = json.dumps(body)
    # The same event delivered again, twice: recognised by its event_id, nothing more is sent.
    assert stack.functions.invoke("NotificationsFunction", event) == {"batchItemFailures": []}
    assert stack.functions.invoke("NotificationsFunction", event) == {"batchItemFailures": []}
    sent = sent_emails(address)
    assert len(sent) == 1
    mail = sent[0]
    assert mail["Subject"] == f"We have received your complaint {change.case.reference}"
    assert mail["Auto-Submitted"] == "auto-replied"
    # Plain text beside HTML: the text part.
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert change.case.reference in text and "final response by" in text and "free of charge" in text


def test_notifications_report_a_message_they_cannot_read(stack) -> None:
    event = load("sqs_notification_acknowledged.json")
    good = copy.deepcopy(event["Records"][0])
    opened = load("eventbridge_case_opened.json")  # an event that needs no notification
    opened["detail"]["event_id"] = str(uuid.uuid4())
    good["body"], good["messageId"] = json.dumps(opened), "good"
    bad = copy.deepcopy(event["Records"][0])
    bad["body"] = "not json"
    event["Records"] = [good, bad]
    result = stack.functions.invoke("NotificationsFunction", event)
    assert result == {"batchItemFailures": [{"itemIdentifier": bad["messageId"]}]}
    # A batch where everything fails is raised, so Lambda retries it whole and redrives it to the DLQ.
    event["Records"] = [bad]
    with pytest.raises(FunctionError) as failed:
        stack.functions.invoke("NotificationsFunction", event)
    assert failed.value.error_type == "BatchProcessingError"


def stranded(event: DomainEvent) -> None:
    """``event`` pending in the outbox, as if its stream record had been lost (the publisher gave up on its batch):
    written first as an item the publisher's filter does not take (kind ``outbox`` on an INSERT), then as the outbox
    item itself, a MODIFY, which the filter does not take either."""
    repo = wiring.case_repository()
    item = outbox_item(event)
    repo.client.put_item(TableName=repo.table, Item=_to_item({**item, "kind": "stranded"}))
    repo.client.put_item(TableName=repo.table, Item=_to_item(item))


def outbox_item_of(event: DomainEvent) -> dict:
    repo = wiring.case_repository()
    key = outbox_item(event)
    return repo.client.get_item(TableName=repo.table, ConsistentRead=True,
                                Key=_to_item({"pk": key["pk"], "sk": key["sk"]}))["Item"]


def test_the_sweeper_publishes_an_event_the_stream_publisher_never_saw(stack) -> None:
    """A note's event stranded in the outbox, older than the grace period (five minutes): the scheduled sweeper finds
    it, puts it on the bus and marks it published. Nothing consumes a note's event, so nothing else happens."""
    ten_minutes_ago = datetime.now(UTC) - timedelta(minutes=10)
    opened = new_case_at(ten_minutes_ago, quiet=True)
    note = opened.case.add_note("Called the branch.", Actor(kind="staff", id="h1", roles=("handler",)),
                                ten_minutes_ago)
    wiring.case_repository().record(note.model_copy(update={"events": ()}))
    [event] = note.events
    stranded(event)
    stack.wait_until_idle(timeout=30)
    assert "due_pk" in outbox_item_of(event) and archived_events(stack, opened.case.reference) == []  # stranded

    result = stack.functions.invoke("OutboxSweeperFunction", load("schedule_outbox_sweep.json"))
    assert result["published"] >= 1 and result["failed"] == 0
    item = outbox_item_of(event)
    assert "due_pk" not in item and "published_at" in item  # marked: the next sweep leaves it alone
    stack.wait_until_idle(timeout=30)
    assert [(e["event_id"], e["type"]) for e in archived_events(stack, opened.case.reference)] == [
        (event.event_id, "InternalNoteAdded")]  # on the bus, once


def test_every_kind_of_change_is_published_from_the_stream(stack) -> None:
    """The stream publisher reads every event a change writes, not only the first: a note's event (empty before and
    after) included. Left pending, it would wait for the sweeper's five-minute grace."""
    change = new_case()
    case = change.case
    for make in (lambda c: c.add_note("Called the branch.", Actor(kind="staff", id="h1", roles=("handler",)),
                                      datetime.now(UTC)),
                 lambda c: c.assign("h1", Actor(kind="staff", id="s1", roles=("supervisor",)), datetime.now(UTC)),
                 lambda c: c.add_message("More detail.", Actor(kind="complainant", id="c"), datetime.now(UTC))):
        step = make(case)
        wiring.case_repository().record(step)
        case = step.case
    stack.wait_until_idle(timeout=30)
    repo = wiring.case_repository()
    items = repo.client.query(TableName=repo.table, ConsistentRead=True,
                              KeyConditionExpression="pk = :pk AND begins_with(sk, :o)",
                              ExpressionAttributeValues={":pk": {"S": f"CASE#{case.reference}"}, ":o": {"S": "OUTBOX#"}})
    pending = [event_from_outbox_image(item).type for item in items["Items"] if "due_pk" in item]
    published = [event_from_outbox_image(item).type for item in items["Items"] if "due_pk" not in item]
    assert pending == []
    assert {"CaseOpened", "InternalNoteAdded", "CaseAssigned", "MessageAdded"} <= set(published)
