"""Request parameters and response headers both API functions share."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

Reference = Annotated[str, Path(min_length=3, max_length=40, description="The complaint reference, e.g. CMP-2026-7K3F9Q")]

# Answers that carry personal data or secrets must not be kept by browsers or proxies.
NO_STORE = {"Cache-Control": "no-store"}
