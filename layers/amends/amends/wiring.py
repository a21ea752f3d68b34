"""The composition root: builds adapters from settings, once per Lambda execution environment.

Handlers ask here for what they need; nothing else constructs boto3 clients. Endpoints come from the
environment (AWS_ENDPOINT_URL_*), so the same code runs against AWS and against the local emulators.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3

from amends.adapters.dynamodb import DynamoCaseRepository
from amends.adapters.eventbridge import EventBridgePublisher
from amends.adapters.ses import SesMailer
from amends.settings import get_settings


def _client(service: str) -> Any:
    """A client from its own session: boto3's default session is not safe to share between threads."""
    return boto3.session.Session().client(service)


@cache
def case_repository() -> DynamoCaseRepository:
    return DynamoCaseRepository(get_settings().table_name, _client("dynamodb"))


@cache
def event_publisher() -> EventBridgePublisher:
    return EventBridgePublisher(get_settings().event_bus_name, _client("events"))


@cache
def mailer() -> SesMailer:
    sender = get_settings().sender_address
    if not sender:
        raise RuntimeError("SENDER_ADDRESS is not set: the template sets it for the notifications function")
    return SesMailer(sender, _client("ses"))


def reset() -> None:
    """Forget built adapters (tests that switch endpoints or settings call this)."""
    for factory in (case_repository, event_publisher, mailer, get_settings):
        factory.cache_clear()
