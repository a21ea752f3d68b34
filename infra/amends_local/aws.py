"""boto3 clients the runtime itself uses, pointed at the emulators explicitly (never at AWS)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from amends_local.template import REGION

_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=_CONFIG,
    )


def error_code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")
