"""boto3 clients the runtime itself uses, pointed at the emulators explicitly (never at AWS).

Clients are thread-safe but sessions are not, and the runtime makes clients from many threads (pollers, the
scheduler, Step Functions callbacks): each thread gets its own session.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from amends_local.template import REGION

_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)
_sessions = threading.local()


def client(service: str, endpoint: str, config: Config | None = None) -> Any:
    session = getattr(_sessions, "session", None)
    if session is None:
        session = _sessions.session = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION
        )
    return session.client(service, endpoint_url=endpoint, config=config or _CONFIG)


def error_code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")
