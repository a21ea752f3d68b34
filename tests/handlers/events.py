"""Load the sample events in events/ and adapt them to a test (new reference, token, body, claims)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def api(name: str, *, reference: str | None = None, body: Any = ..., headers: dict[str, str | None] | None = None,
        groups: str | None = None, sub: str | None = None, query: dict[str, str] | None = None) -> dict[str, Any]:
    event = copy.deepcopy(load(name))
    if reference:
        event["path"] = event["path"].replace("CMP-2026-7K3F9Q", reference)
        event["pathParameters"] = {"reference": reference}
    if body is not ...:
        event["body"] = body if isinstance(body, str) or body is None else json.dumps(body)
    for key, value in (headers or {}).items():
        if value is None:
            event["headers"].pop(key, None)
            event["multiValueHeaders"].pop(key, None)
        else:
            event["headers"][key] = value
            event["multiValueHeaders"][key] = [value]
    if query is not None:
        event["queryStringParameters"] = query or None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    claims = event["requestContext"].get("authorizer", {}).get("claims")
    if claims is not None:
        if groups is not None:
            claims["cognito:groups"] = groups
        if sub is not None:
            claims["sub"] = sub
    return event


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None
