"""API Gateway's own answers (gateway responses), rendered from the Api's ``GatewayResponses`` as deployed.

A response type the template defines is rendered from its definition; any other falls back to DEFAULT_4XX or
DEFAULT_5XX (by the type's own status); without those either, API Gateway's built-in ``{"message": "..."}`` is
sent. The status is the type's own ``StatusCode``, else the fallback's ``StatusCode`` if that one sets it, else
the type's documented default (:data:`DEFAULT_STATUS`): a DEFAULT_4XX without a StatusCode leaves an expired
token 403 and a throttled request 429, as on AWS.

Header values are API Gateway mapping expressions, evaluated per request: ``'literal'``,
``method.request.header.<name>``, ``method.request.querystring.<name>`` and ``context.requestId``. A mapped
value the request does not have leaves the header out. Body templates are not VTL: only ``$context`` variables
are substituted (the ones this gateway knows: error.message, error.messageString, error.responseType,
requestId). A template that renders invalid JSON is sent as rendered, as API Gateway would, and logged.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qsl

logger = logging.getLogger(__name__)

# API Gateway's documented default status of every response type ("Gateway response types for API Gateway");
# DEFAULT_4XX and DEFAULT_5XX have none of their own.
DEFAULT_STATUS = {
    "ACCESS_DENIED": 403,
    "API_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_FAILURE": 500,
    "BAD_REQUEST_PARAMETERS": 400,
    "BAD_REQUEST_BODY": 400,
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
    "EXPIRED_TOKEN": 403,
    "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
    "INVALID_API_KEY": 403,
    "INVALID_SIGNATURE": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "QUOTA_EXCEEDED": 429,
    "REQUEST_TOO_LARGE": 413,
    "RESOURCE_NOT_FOUND": 404,
    "THROTTLED": 429,
    "UNAUTHORIZED": 401,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "WAF_FILTERED": 403,
}

# The x-amzn-ErrorType header API Gateway sends with the answers this gateway produces.
ERROR_TYPES = {
    "UNAUTHORIZED": "UnauthorizedException",
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
    "ACCESS_DENIED": "AccessDeniedException",
    "REQUEST_TOO_LARGE": "RequestTooLargeException",
    "THROTTLED": "TooManyRequestsException",
}

_CONTEXT_VARIABLE = re.compile(r"\$context\.(error\.messageString|error\.message|error\.responseType|requestId)\b")
_MAPPING = re.compile(r"method\.request\.(header|querystring)\.([!#$%&'*+.^_`|~0-9A-Za-z-]+)|context\.requestId")


class ResponseSpec(Protocol):
    response_type: str
    status_code: int | None
    headers: dict[str, str]  # header name → mapping expression
    template: str | None


class MappedRequest(Protocol):
    """What a gateway response can map values from."""

    query: str

    def header(self, name: str) -> str | None: ...


@dataclass
class Rendered:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def error_type(response_type: str) -> str:
    return ERROR_TYPES.get(response_type, "InternalServerErrorException")


def default_status(response_type: str) -> int | None:
    try:
        return DEFAULT_STATUS[response_type]
    except KeyError:
        raise ValueError(f"{response_type!r} is not an API Gateway response type "
                         f"(one of {', '.join(sorted(DEFAULT_STATUS))})") from None


def check_mapping(expression: str) -> None:
    """Refuse, at startup, a header mapping this gateway cannot evaluate (rather than send something else)."""
    if _is_literal(expression) or _MAPPING.fullmatch(expression):
        return
    raise ValueError(f"Gateway response header value {expression!r} is not emulated locally: use 'literal', "
                     "method.request.header.<name>, method.request.querystring.<name> or context.requestId")


class GatewayResponses:
    """The Api's gateway responses; :meth:`render` gives the answer for one response type and request."""

    def __init__(self, specs: Iterable[ResponseSpec]) -> None:
        self._specs = {spec.response_type: spec for spec in specs}
        for spec in self._specs.values():
            default_status(spec.response_type)
            for expression in spec.headers.values():
                check_mapping(expression)

    def render(self, response_type: str, message: str, request_id: str, *, status: int | None = None,
               request: MappedRequest | None = None) -> Rendered:
        """``status`` is API Gateway's own status for this occurrence when it differs from the type's default
        (a failed Lambda proxy integration is DEFAULT_5XX with 502)."""
        own_status = status or default_status(response_type)
        if own_status is None:
            raise ValueError(f"{response_type} has no status of its own: give one")
        fallback = self._specs.get("DEFAULT_5XX" if own_status >= 500 else "DEFAULT_4XX")
        spec = self._specs.get(response_type) or fallback
        if spec is None:
            return Rendered(own_status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode())
        status_code = spec.status_code or (fallback.status_code if fallback else None) or own_status
        values = {"error.messageString": json.dumps(message), "error.message": message,
                  "error.responseType": response_type, "requestId": request_id}
        text = _CONTEXT_VARIABLE.sub(lambda m: values[m.group(1)], spec.template or "")
        headers: dict[str, str] = {}
        for name, expression in spec.headers.items():
            value = _evaluate(expression, request, request_id)
            if value is not None:
                headers[name] = value
        headers.setdefault("Content-Type", "application/json")
        if headers["Content-Type"].split(";")[0].endswith("json"):
            try:
                json.loads(text)
            except ValueError:
                logger.warning("Gateway response %s (from %s) renders invalid JSON: %s",
                               response_type, spec.response_type, text)
        return Rendered(status_code, list(headers.items()), text.encode())


def _is_literal(expression: str) -> bool:
    return len(expression) >= 2 and expression[0] == expression[-1] == "'"


def _evaluate(expression: str, request: MappedRequest | None, request_id: str) -> str | None:
    if _is_literal(expression):
        return expression[1:-1]
    if expression == "context.requestId":
        return request_id
    found = _MAPPING.fullmatch(expression)
    if found is None or request is None:
        return None
    where, name = found.groups()
    if where == "header":
        return request.header(name)
    values = [v for k, v in parse_qsl(request.query, keep_blank_values=True) if k == name]
    return values[-1] if values else None
