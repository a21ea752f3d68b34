"""CORS for the API functions: which browser origins may call the API, from the AllowedOrigins template parameter.

API Gateway passes OPTIONS preflights straight to the functions (no authorizer, see template.yaml), and
Powertools answers them (204) and adds the CORS headers to every answer whose Origin is allowed. With no
origins configured there is no CORS at all: no headers, and a preflight is the API's 404 like any unknown route.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.event_handler import CORSConfig

ENVIRONMENT_VARIABLE = "ALLOWED_ORIGINS"
# Request headers our routes read, beyond the CORS-safelisted ones (Powertools adds Authorization and Content-Type).
ALLOW_HEADERS = ["Content-Type", "Authorization", "Idempotency-Key", "X-Access-Token"]
# Response headers a page's script may read, beyond the CORS-safelisted ones.
EXPOSE_HEADERS = ["Location", "Retry-After", "WWW-Authenticate"]
MAX_AGE_SECONDS = 600  # how long a browser may reuse a preflight answer


def allowed_origins(value: str | None = None) -> list[str]:
    """The configured origins: ``value``, else the ALLOWED_ORIGINS environment variable (comma-separated)."""
    text = os.environ.get(ENVIRONMENT_VARIABLE, "") if value is None else value
    return [origin.strip() for origin in text.split(",") if origin.strip()]


def cors_config(value: str | None = None) -> CORSConfig | None:
    """Powertools' CORS configuration for the configured origins; None (no CORS) when there are none.

    Read when the resolver is built, at import: Powertools records which methods CORS applies to as routes
    register, so it cannot be switched on per invocation.
    """
    origins = allowed_origins(value)
    if not origins:
        return None
    return CORSConfig(allow_origin=origins[0], extra_origins=origins[1:], allow_headers=ALLOW_HEADERS,
                      expose_headers=EXPOSE_HEADERS, max_age=MAX_AGE_SECONDS)


def vary_on_origin(result: dict[str, Any], config: CORSConfig | None) -> dict[str, Any]:
    """Add ``Vary: Origin`` to a proxy response when CORS is on: the CORS headers depend on the Origin sent, so a
    cache must not give one origin's answer to another (Powertools does not say so itself)."""
    if config is None:
        return result
    headers = result.setdefault("multiValueHeaders", {})
    name = next((name for name in headers if name.lower() == "vary"), "Vary")
    values = headers.get(name, [])
    if "origin" not in ",".join(values).lower():
        headers[name] = [*values, "Origin"]
    return result
