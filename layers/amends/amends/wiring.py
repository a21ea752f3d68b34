"""The composition root: builds adapters from settings, once per Lambda execution environment.

Handlers ask here for what they need; nothing else constructs boto3 clients. Endpoints come from the
environment (AWS_ENDPOINT_URL_*), so the same code runs against AWS and against the local emulators.
"""

from __future__ import annotations

import os
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from amends.adapters.dynamodb import DynamoCaseRepository
from amends.adapters.eventbridge import EventBridgePublisher
from amends.adapters.filing_requests import DynamoFilingRequests
from amends.adapters.executions import (
    DynamoExecutionTokens,
    DynamoStatusHistory,
    StepFunctionsCallbacks,
    StepFunctionsStarter,
)
from amends.adapters.mail_log import DynamoMailLog
from amends.adapters.attachments import S3Attachments
from amends.adapters.raw_mail import S3RawMail
from amends.adapters.local_mail import LocalMailCopy
from amends.adapters.sent_mail import DynamoSentMail
from amends.adapters.ses import SesMailer
from amends.adapters.cognito import CognitoStaffDirectory
from amends.adapters.timers import DynamoTimerStore
from amends.services.outbound import GuardedMailer
from amends.settings import get_clock, get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

_sessions = threading.local()


def _client(service: str) -> Any:
    """A client from this thread's session: a boto3 session is not safe to share between threads (a client is).
    In Lambda that is one session, which loads the endpoint rules and service models once for all clients."""
    if not hasattr(_sessions, "session"):
        _sessions.session = boto3.session.Session()
    return _sessions.session.client(service)


@cache
def dynamodb() -> Any:
    return _client("dynamodb")


@cache
def case_repository() -> DynamoCaseRepository:
    return DynamoCaseRepository(get_settings().table_name, dynamodb())


def idempotency_store() -> DynamoDBPersistenceLayer:
    """Powertools' idempotency records, through the same DynamoDB client (not a session and client of its own).
    A new store for each idempotent function: Powertools configures a store once, for the first function it guards."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    table = get_settings().idempotency_table_name
    if not table:
        raise RuntimeError("IDEMPOTENCY_TABLE_NAME is not set: the template sets it for the functions that use it")
    return DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb())


@cache
def filing_requests() -> DynamoFilingRequests:
    """Complaints filed with an Idempotency-Key, in Powertools' idempotency table (amends.adapters.filing_requests)."""
    table = get_settings().idempotency_table_name
    if not table:
        raise RuntimeError("IDEMPOTENCY_TABLE_NAME is not set: the template sets it for the functions that use it")
    return DynamoFilingRequests(case_repository(), table)


@cache
def mail_log() -> DynamoMailLog:
    return DynamoMailLog(case_repository())


@cache
def attachments() -> S3Attachments:
    bucket = get_settings().attachments_bucket
    if not bucket:
        raise RuntimeError("ATTACHMENTS_BUCKET is not set: the template sets it for the functions that store or "
                           "serve attachments")
    return S3Attachments(bucket, _client("s3"))


@cache
def raw_mail() -> S3RawMail:
    bucket = get_settings().raw_mail_bucket
    if not bucket:
        raise RuntimeError("RAW_MAIL_BUCKET is not set: the template sets it for the email ingest function")
    return S3RawMail(bucket, _client("s3"))


@cache
def event_publisher() -> EventBridgePublisher:
    return EventBridgePublisher(get_settings().event_bus_name, _client("events"))


@cache
def mailer() -> SesMailer:
    sender = get_settings().sender_address
    if not sender:
        raise RuntimeError("SENDER_ADDRESS is not set: the template sets it for the notifications function")
    return SesMailer(sender, _client("ses"), get_settings().ses_configuration_set)


@cache
def sent_mail() -> DynamoSentMail:
    return DynamoSentMail(get_settings().table_name, dynamodb())


def outbound() -> GuardedMailer:
    """The mailer every send goes through (amends.services.outbound); built per invocation, for the clock. Under
    the local runtime (AMENDS_LOCAL_MAIL_DIR set) each message is also kept as an .eml file."""
    ses = mailer()
    local_dir = os.environ.get("AMENDS_LOCAL_MAIL_DIR")
    sender = LocalMailCopy(ses, Path(local_dir), get_clock()) if local_dir else ses
    return GuardedMailer(sender, sent_mail(), clock=get_clock(), settings=get_settings(), message_id_of=ses.message_id_of)


def staff_directory() -> CognitoStaffDirectory | None:
    """Staff addresses from the user pool; None where the function is not given one (then no staff mail is sent,
    and the notifier says so for each letter it could not address)."""
    pool = get_settings().staff_user_pool_id
    return _staff_directory(pool) if pool else None


@cache
def _staff_directory(pool: str) -> CognitoStaffDirectory:
    return CognitoStaffDirectory(pool, _client("cognito-idp"))


@cache
def execution_tokens() -> DynamoExecutionTokens:
    return DynamoExecutionTokens(get_settings().table_name, dynamodb())


@cache
def status_history() -> DynamoStatusHistory:
    return DynamoStatusHistory(get_settings().table_name, dynamodb())


@cache
def task_callbacks() -> StepFunctionsCallbacks:
    return StepFunctionsCallbacks(_client("stepfunctions"))


@cache
def execution_starter() -> StepFunctionsStarter:
    arn = get_settings().state_machine_arn
    if not arn:
        raise RuntimeError("STATE_MACHINE_ARN is not set: the template sets it for the lifecycle callback function")
    return StepFunctionsStarter(arn, _client("stepfunctions"))


@cache
def timer_store() -> DynamoTimerStore:
    return DynamoTimerStore(get_settings().table_name, dynamodb())


def reset() -> None:
    """Forget built adapters and sessions (tests that switch endpoints or settings call this)."""
    global _sessions
    _sessions = threading.local()
    for factory in (dynamodb, case_repository, filing_requests, mail_log, raw_mail, attachments, event_publisher,
                    mailer, sent_mail, execution_tokens, status_history, task_callbacks,
                    execution_starter, timer_store, _staff_directory, get_settings):
        factory.cache_clear()
