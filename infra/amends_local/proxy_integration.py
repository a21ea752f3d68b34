"""API Gateway's Lambda proxy integration (payload format 1.0) for a REST API: the event a request becomes, and
the HTTP answer a handler's proxy response becomes (or why it is malformed, which API Gateway answers with 502).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl

from amends_local.gateway_http import Reply, Request

logger = logging.getLogger("amends_local.gateway")

ACCOUNT_ID = "123456789012"
API_ID = "amendslocal"
PROXY_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}


class Route(Protocol):
    function_id: str
    method: str
    path: str
    authorizer: str | None


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def build_event(request: Request, route: Route, path_parameters: dict[str, str], *, stage: str, request_id: str,
                now: datetime, claims: dict[str, str] | None, binary_media_types: list[str]) -> dict[str, Any]:
    """The Lambda proxy event (payload format 1.0) API Gateway sends for this request."""
    headers = _forwarded_headers(request)
    single = {name: values[-1] for name, values in headers.items()}
    pairs = parse_qsl(request.query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for name, value in pairs:
        multi_query.setdefault(name, []).append(value)
    body, is_base64 = _event_body(request, binary_media_types)
    host = (request.header("Host") or f"127.0.0.1:{request.server_port}").split(":")[0]
    user_agent = request.header("User-Agent")
    utc = now.astimezone(UTC)
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": host,
        "domainPrefix": host.split(".")[0],
        "extendedRequestId": base64.b64encode(uuid.UUID(request_id).bytes[:10]).decode(),
        "httpMethod": request.method,
        "identity": {
            "sourceIp": request.source_ip, "userAgent": user_agent, "accessKey": None, "accountId": None,
            "caller": None, "cognitoAuthenticationProvider": None, "cognitoAuthenticationType": None,
            "cognitoIdentityId": None, "cognitoIdentityPoolId": None, "principalOrgId": None, "user": None,
            "userArn": None,
        },
        "path": f"/{stage}{request.path}",
        "protocol": "HTTP/1.1",
        "requestId": request_id,
        "requestTime": f"{utc:%d}/{_MONTHS[utc.month - 1]}/{utc:%Y:%H:%M:%S} +0000",
        "requestTimeEpoch": int(utc.timestamp() * 1000),
        "resourceId": hashlib.sha1(route.path.encode()).hexdigest()[:6],
        "resourcePath": route.path,
        "stage": stage,
    }
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {
        "resource": route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": single or None,
        "multiValueHeaders": headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _forwarded_headers(request: Request) -> dict[str, list[str]]:
    """The client's headers plus the ones API Gateway sets: X-Forwarded-For/-Proto/-Port and X-Amzn-Trace-Id."""
    own = {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-port"}
    headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        if name.lower() not in own:
            headers.setdefault(name, []).append(value)
    forwarded_for = request.header("X-Forwarded-For")
    headers["X-Forwarded-For"] = [f"{forwarded_for}, {request.source_ip}" if forwarded_for else request.source_ip]
    headers["X-Forwarded-Proto"] = ["http"]  # handlers build absolute URLs from it; locally there is no TLS
    headers["X-Forwarded-Port"] = [str(request.server_port)]
    if not any(name.lower() == "x-amzn-trace-id" for name in headers):
        headers["X-Amzn-Trace-Id"] = [f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"]
    return headers


def _matches(content_type: str | None, media_types: list[str]) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return bool(media) and any(fnmatch.fnmatch(media, pattern.lower()) for pattern in media_types)


def _event_body(request: Request, binary_media_types: list[str]) -> tuple[str | None, bool]:
    """Base64 only for the Api's BinaryMediaTypes; otherwise API Gateway passes the payload on as UTF-8 text."""
    if not request.body:
        return None, False
    if _matches(request.header("Content-Type"), binary_media_types):
        return base64.b64encode(request.body).decode(), True
    try:
        return request.body.decode("utf-8"), False
    except UnicodeDecodeError:
        logger.warning("%s %s: a non-UTF-8 body with Content-Type %r reaches the handler as text with "
                       "replacement characters, as on AWS (the Api declares no BinaryMediaTypes for it)",
                       request.method, request.path, request.header("Content-Type"))
        return request.body.decode("utf-8", errors="replace"), False


class MalformedProxyResponse(ValueError):
    """The handler's result is not a Lambda proxy response; API Gateway answers 502 for it."""


def proxy_reply(result: Any, request: Request, binary_media_types: list[str]) -> Reply:
    """The HTTP answer for a handler's proxy response, or :class:`MalformedProxyResponse` saying what is wrong."""
    if not isinstance(result, dict):
        raise MalformedProxyResponse(f"the result is a {type(result).__name__}, not an object")
    unknown = set(result) - PROXY_RESPONSE_KEYS
    if unknown:
        raise MalformedProxyResponse(f"unknown keys {sorted(unknown)} (a REST API accepts only "
                                     f"{sorted(PROXY_RESPONSE_KEYS)})")
    try:
        status = int(result.get("statusCode", 200))
    except (TypeError, ValueError):
        raise MalformedProxyResponse(f"statusCode {result.get('statusCode')!r} is not a number") from None
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedProxyResponse(f"body is a {type(body).__name__}; it must be a string (serialise it)")
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedProxyResponse("headers and multiValueHeaders must be objects")
    if any(not isinstance(v, list) for v in multi.values()):
        raise MalformedProxyResponse("every multiValueHeaders value must be a list")
    # Both given: merged, and multiValueHeaders wins for a name it has (API Gateway's documented rule).
    names = {name.lower() for name in multi}
    headers = [(name, _header_text(v)) for name, values in multi.items() for v in values]
    headers += [(name, _header_text(v)) for name, v in single.items() if name.lower() not in names]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))  # what a REST API adds when the handler sets none
    payload = (body or "").encode()
    if result.get("isBase64Encoded"):
        if _matches(request.header("Accept"), binary_media_types):
            payload = base64.b64decode(payload)
        else:
            logger.warning("%s %s: the handler returned isBase64Encoded, but the request's Accept header matches "
                           "none of the Api's BinaryMediaTypes, so API Gateway sends the base64 text as is",
                           request.method, request.path)
    return Reply(status, headers, payload)


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedProxyResponse(f"header value {value!r} is not a string")
