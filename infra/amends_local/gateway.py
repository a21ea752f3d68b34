"""The local API Gateway: template.yaml's REST API (``AWS::Serverless::Api``) in front of the project's handlers.

It does what API Gateway does for a REST API with Lambda proxy integrations (payload format 1.0), so the
handlers see the events they will see on AWS and clients see the answers they will get there:

* routes come from the functions' ``Api`` events; literal path segments win over ``{param}`` ones; an unknown
  path, or a known path with another method, is API Gateway's MISSING_AUTHENTICATION_TOKEN;
* routes with an authorizer need a valid ID token of the (local) staff user pool, checked like the Cognito user
  pool authorizer does, and the handler gets the claims as strings in ``requestContext.authorizer.claims``;
* the answers API Gateway gives itself (401, 404, 413, 502...) are rendered from the Api's ``GatewayResponses``,
  as deployed (:mod:`amends_local.gateway_responses`);
* a handler's result must be a valid proxy response, or the client gets 502 as on AWS (the log says why).

Local-only extras, not part of the API and not in template.yaml: ``GET /openapi.json``, ``GET /docs`` (Swagger UI,
served offline), ``GET|POST /_local/clock``, ``POST /_local/token`` and ``GET /local-idp/.well-known/jwks.json``.
"""

from __future__ import annotations

import base64
import dataclasses
import fnmatch
import hashlib
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from amends_local.auth import ROLES, LocalIdentityProvider, TokenRejected, check_role, claims_for_api_gateway
from amends_local.gateway_responses import GatewayResponses, error_type

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_FILE = ROOT / "infra" / "openapi.json"
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's hard limit for a REST API request
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024  # bigger oversized bodies are not read at all: the connection is dropped
ACCOUNT_ID = "123456789012"
API_ID = "amendslocal"
SWAGGER_PACKAGE = "aws_lambda_powertools.event_handler.openapi.swagger_ui"
SWAGGER_ASSETS = {"swagger-ui-bundle.min.js": "text/javascript; charset=utf-8",
                  "swagger-ui.min.css": "text/css; charset=utf-8"}

ANY_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}  # what a REST API's ANY method covers
PROXY_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}


class Clock(Protocol):
    def now(self) -> datetime: ...
    def advance(self, by: timedelta) -> Any: ...


class Route(Protocol):
    function_id: str
    method: str
    path: str
    authorizer: str | None


Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


# ------------------------------------------------------------------------------------------------------------
# Plain data in and out of the gateway: what the HTTP layer reads and writes, kept apart so it can be reasoned about
# ------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as sent, still percent-encoded (API Gateway hands REST integrations the raw path)
    query: str
    headers: list[tuple[str, str]]  # in order, repeated names kept
    body: bytes
    source_ip: str
    server_port: int

    def header(self, name: str) -> str | None:
        """The last value of a header, its name matched case-insensitively."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[-1] if values else None


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    close: bool = False  # drop the connection afterwards (the request body was not read)


def problem(status: int, title: str, detail: str, **extra: Any) -> Reply:
    """An RFC 9457 answer for the local-only routes (the API's own answers come from its templates)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Reply(status, [("Content-Type", "application/problem+json")], json.dumps(body).encode())


def json_reply(value: Any, status: int = 200) -> Reply:
    return Reply(status, [("Content-Type", "application/json")], json.dumps(value, indent=2).encode())


# ------------------------------------------------------------------------------------------------------------
# Routing
# ------------------------------------------------------------------------------------------------------------
class Router:
    """Resources and their methods, matched the way API Gateway picks a resource for a path."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._resources: dict[str, dict[str, Route]] = {}
        for route in routes:
            methods = self._resources.setdefault(route.path, {})
            method = route.method.upper()
            if method in methods:
                raise ValueError(f"Two functions serve {method} {route.path}: "
                                 f"{methods[method].function_id} and {route.function_id}")
            methods[method] = route

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and its path parameters; None when API Gateway would answer MISSING_AUTHENTICATION_TOKEN.

        Of the resources whose template fits the path, the most specific wins, segment by segment from the left:
        a literal beats ``{param}``, which beats a greedy ``{proxy+}``. A fitting resource without the method (nor
        ``ANY``) is no match at all: API Gateway does not fall back to a less specific resource.
        """
        segments = [s for s in path.split("/") if s]
        best: tuple[tuple[int, ...], str, dict[str, str]] | None = None
        for resource in self._resources:
            fitted = _fit(resource, segments)
            if fitted is not None and (best is None or fitted[0] > best[0]):
                best = (fitted[0], resource, fitted[1])
        if best is None:
            return None
        methods = self._resources[best[1]]
        route = methods.get(method.upper()) or (methods.get("ANY") if method.upper() in ANY_METHODS else None)
        return (route, best[2]) if route is not None else None


def _fit(resource: str, segments: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """How specifically ``resource`` matches the path segments (higher is more specific), with the parameters."""
    parts = [p for p in resource.split("/") if p]
    rank: list[int] = []
    params: dict[str, str] = {}
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            if i >= len(segments):
                return None
            params[part[1:-2]] = "/".join(segments[i:])
            return (*rank, 0), params
        if i >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = segments[i]
            rank.append(1)
        elif part == segments[i]:
            rank.append(2)
        else:
            return None
    return (tuple(rank), params) if len(parts) == len(segments) else None


# ------------------------------------------------------------------------------------------------------------
# Events and proxy responses
# ------------------------------------------------------------------------------------------------------------
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


# ------------------------------------------------------------------------------------------------------------
# What the gateway reads from the template beyond routes and gateway responses
# ------------------------------------------------------------------------------------------------------------
def _apis(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Properties of every AWS::Serverless::Api, with Globals.Api merged under them."""
    base = raw.get("Globals", {}).get("Api", {})
    return [{**base, **res.get("Properties", {})} for res in raw.get("Resources", {}).values()
            if res.get("Type") == "AWS::Serverless::Api"]


def api_stage(template: Any) -> str:
    """The stage name: ``template.api_stage()`` when the Template offers it, else read from the raw template."""
    if hasattr(template, "api_stage"):
        return str(template.api_stage())
    for props in _apis(template.raw):
        name = props.get("StageName", "Prod")
        if isinstance(name, dict) and "Ref" in name:
            parameters = getattr(template, "parameters", None) or {}
            name = parameters.get(name["Ref"]) or template.raw["Parameters"][name["Ref"]].get("Default")
        return str(name)
    return "Prod"


def identity_headers(raw: dict[str, Any]) -> dict[str, str]:
    """Each Cognito authorizer's name → the header it reads the token from.

    Only Cognito user pool authorizers are emulated; the gateway refuses to start with any other kind.
    """
    headers: dict[str, str] = {}
    for props in _apis(raw):
        for name, spec in props.get("Auth", {}).get("Authorizers", {}).items():
            if "UserPoolArn" in spec:
                headers[name] = spec.get("Identity", {}).get("Header", "Authorization")
    return headers


def binary_media_types(raw: dict[str, Any]) -> list[str]:
    """The Api's BinaryMediaTypes, with SAM's ``~1`` escape for ``/`` undone."""
    return [str(t).replace("~1", "/") for props in _apis(raw) for t in props.get("BinaryMediaTypes", [])]


_DURATION = re.compile(r"P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
                       r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
                       r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?")


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration in weeks, days, hours, minutes and seconds ("P3D", "PT90M", "P1DT12H").

    Years and months are refused: their length depends on the date, and "advance the clock by a month" is
    better said in days.
    """
    found = _DURATION.fullmatch(text.strip().upper())
    if not found or not any(found.groupdict().values()) or text.strip().upper().endswith("T"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration in W/D/H/M/S, like P3D or PT2H30M")
    return timedelta(**{unit: float(value) for unit, value in found.groupdict().items() if value})


# ------------------------------------------------------------------------------------------------------------
# The gateway
# ------------------------------------------------------------------------------------------------------------
class Gateway:
    """template.yaml's REST API on http://127.0.0.1:<port>, calling ``invoke(function_id, event)`` per request."""

    def __init__(self, *, template: Any, invoke: Invoke, clock: Clock, host: str = "127.0.0.1", port: int = 3000,
                 state_dir: Path, openapi_file: Path = OPENAPI_FILE) -> None:
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError(f"The local gateway only listens on the loopback interface, not {host!r}")
        self._invoke = invoke
        self._clock = clock
        self._address = ("127.0.0.1", port)
        self._openapi_file = openapi_file
        routes = list(template.api_routes())
        self._router = Router(routes)
        self._responses = GatewayResponses(template.gateway_responses())
        for rid in getattr(template, "detached_gateway_responses", list)():
            logger.warning("%s (AWS::ApiGateway::GatewayResponse) is not served: a SAM deployment does not carry "
                           "it reliably. Declare it in the Api's GatewayResponses instead.", rid)
        self._stage = api_stage(template)
        self._binary_media_types = binary_media_types(template.raw)
        self._identity_headers = identity_headers(template.raw)
        for route in routes:
            if route.authorizer is not None and route.authorizer not in self._identity_headers:
                raise ValueError(f"{route.method} {route.path} uses authorizer {route.authorizer!r}, which is not a "
                                 f"Cognito user pool authorizer of the Api; only those are emulated locally")
        self.idp = LocalIdentityProvider(state_dir, clock=clock)
        self._local_routes: dict[tuple[str, str], Callable[[Request], Reply]] = {
            ("GET", "/openapi.json"): self._openapi,
            ("GET", "/docs"): self._docs,
            ("GET", "/local-idp/.well-known/jwks.json"): lambda _: json_reply(self.idp.jwks()),
            ("GET", "/_local/clock"): lambda _: self._clock_state(),
            ("POST", "/_local/clock"): self._advance_clock,
            ("POST", "/_local/token"): self._token,
        }
        for asset in SWAGGER_ASSETS:
            self._local_routes[("GET", f"/docs/{asset}")] = self._swagger_asset
        shadowed = [f"{r.method} {r.path}" for r in routes if (r.method, r.path) in self._local_routes]
        if shadowed:
            raise ValueError(f"template.yaml routes collide with the local-only routes: {', '.join(shadowed)}")
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ---- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Listen and serve in a background thread; port 0 picks a free port (see :attr:`url`)."""
        with self._lock:
            if self._server is not None:
                return
            self._server = _Server(self._address, self)
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"gateway:{self._server.server_address[1]}", daemon=True)
            self._thread.start()
        logger.info("API Gateway (stage %s) listening on %s", self._stage, self.url)

    def stop(self) -> None:
        """Stop listening, end idle keep-alive connections and wait for the request threads; safe to repeat."""
        with self._lock:
            server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is None:
            return
        server.shutdown()
        server.end_idle_connections()
        server.server_close()  # joins the request threads
        if thread is not None:
            thread.join()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("The gateway is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # ---- one request ---------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        """The answer to one request (already read, within the payload limit)."""
        request_id = str(uuid.uuid4())
        local = self._local_routes.get((request.method, request.path))
        if local is not None:
            return local(request)
        matched = self._router.match(request.method, request.path)
        if matched is None:
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token", request_id,
                                          request)
        route, path_parameters = matched
        claims = None
        if route.authorizer is not None:
            try:
                claims = claims_for_api_gateway(self._authorize(route, request))
            except TokenRejected as rejected:
                return self._gateway_response("UNAUTHORIZED", str(rejected), request_id, request)
        event = build_event(request, route, path_parameters, stage=self._stage, request_id=request_id,
                            now=self._clock.now(), claims=claims, binary_media_types=self._binary_media_types)
        try:
            result = self._invoke(route.function_id, event)
        except Exception:  # the function failed: API Gateway answers 502 and the traceback goes to the log
            logger.exception("%s %s: %s raised (request %s)", request.method, request.path, route.function_id,
                             request_id)
            return self._gateway_response("DEFAULT_5XX", "Internal server error", request_id, request, status=502)
        try:
            reply = proxy_reply(result, request, self._binary_media_types)
        except MalformedProxyResponse as malformed:
            logger.error("%s %s: malformed Lambda proxy response from %s: %s (request %s)", request.method,
                         request.path, route.function_id, malformed, request_id)
            return self._gateway_response("DEFAULT_5XX", "Internal server error", request_id, request, status=502)
        reply.headers.append(("x-amzn-RequestId", request_id))
        return reply

    def too_large(self, request: Request) -> Reply:
        """API Gateway's 413 for a request over its payload limit (``request`` carries no body)."""
        reply = self._gateway_response("REQUEST_TOO_LARGE", "Request Too Long", str(uuid.uuid4()), request)
        reply.close = True
        return reply

    def refused(self, status: int, message: str, request: Request | None = None) -> Reply:
        """The answer to a request the HTTP layer could not read: DEFAULT_4XX (DEFAULT_5XX) with that status.

        On AWS such requests never reach the API (the edge refuses them); locally they still get problem+json.
        The connection is closed afterwards: what follows on it cannot be trusted.
        """
        fallback = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
        reply = self._gateway_response(fallback, message, str(uuid.uuid4()), request, status=status)
        reply.close = True
        return reply

    def _gateway_response(self, response_type: str, message: str, request_id: str, request: Request | None,
                          status: int | None = None) -> Reply:
        rendered = self._responses.render(response_type, message, request_id, status=status, request=request)
        headers = rendered.headers + [("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", error_type(response_type))]
        return Reply(rendered.status, headers, rendered.body)

    def _authorize(self, route: Route, request: Request) -> dict[str, Any]:
        """The token's claims, as the Cognito user pool authorizer checks it (``Bearer`` prefix optional)."""
        value = request.header(self._identity_headers[route.authorizer or ""])
        if not value or not value.strip():
            raise TokenRejected("Unauthorized")
        token = value.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        return self.idp.verify(token, self._clock.now())

    # ---- local-only routes ---------------------------------------------------------------------------------
    def _openapi(self, _: Request) -> Reply:
        if not self._openapi_file.is_file():
            return problem(404, "No OpenAPI document yet",
                           f"{self._openapi_file} does not exist. Generate it with `make docs` "
                           f"(uv run python -m amends_local.docs).")
        return Reply(200, [("Content-Type", "application/json")], self._openapi_file.read_bytes())

    def _docs(self, _: Request) -> Reply:
        return Reply(200, [("Content-Type", "text/html; charset=utf-8")], DOCS_HTML.encode())

    def _swagger_asset(self, request: Request) -> Reply:
        name = request.path.rsplit("/", 1)[1]
        asset = resources.files(SWAGGER_PACKAGE).joinpath(name)
        if not asset.is_file():
            return problem(404, "Swagger UI not installed",
                           f"{name} is not in {SWAGGER_PACKAGE}; reinstall the locked dependencies (make setup).")
        return Reply(200, [("Content-Type", SWAGGER_ASSETS[name]), ("Cache-Control", "max-age=86400")],
                     asset.read_bytes())

    def _clock_state(self) -> Reply:
        now = self._clock.now()
        offset = round((now - datetime.now(UTC)).total_seconds())  # approximate: both clocks are read in turn
        return json_reply({"now": now.isoformat(), "offset_seconds": offset})

    def _advance_clock(self, request: Request) -> Reply:
        body = _json_body(request)
        if isinstance(body, Reply):
            return body
        try:
            if "advance_seconds" in body:
                by = timedelta(seconds=float(body["advance_seconds"]))
            elif "advance" in body:
                by = parse_duration(str(body["advance"]))
            else:
                raise ValueError('Send {"advance_seconds": 3600} or {"advance": "P3D"} (ISO 8601 duration)')
            self._clock.advance(by)
        except (TypeError, ValueError) as error:
            return problem(400, "Cannot move the clock", str(error))
        logger.info("Clock moved forward by %s", by)
        return self._clock_state()

    def _token(self, request: Request) -> Reply:
        body = _json_body(request)
        if isinstance(body, Reply):
            return body
        try:
            groups = [check_role(str(g)) for g in body.get("groups") or [body.get("role", "")]]
            sub = str(body.get("sub") or f"local-{groups[0]}")
            ttl = int(body.get("ttl", 3600))
            token = self.idp.issue_token(sub, str(body.get("email") or f"{sub}@example.com"), groups, ttl=ttl)
        except (TypeError, ValueError) as error:
            return problem(400, "Cannot issue a token", f'{error}. Send {{"role": "handler"}} (roles: '
                                                        f'{", ".join(ROLES)}), optionally "sub", "email", "ttl".')
        return json_reply({"token": token, "sub": sub, "groups": groups,
                           "expires_at": (self._clock.now() + timedelta(seconds=ttl)).isoformat()})


def _json_body(request: Request) -> dict[str, Any] | Reply:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return problem(400, "Not JSON", "Send a JSON object with Content-Type: application/json.")
    return body if isinstance(body, dict) else problem(400, "Not a JSON object", "Send a JSON object.")


DOCS_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Amends API (local)</title>
  <link rel="stylesheet" href="/docs/swagger-ui.min.css">
</head>
<body>
  <!-- Local-only page: served by the local gateway from the Swagger UI files bundled with Powertools (no CDN). -->
  <p style="font-family: sans-serif; margin: 1em">
    Local API. Staff routes need a token: <code>make token ROLE=handler</code>, or
    <code>curl -X POST -d '{"role": "handler"}' /_local/token</code>; then <em>Authorize</em> and paste it.
  </p>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.min.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
    });
  </script>
</body>
</html>
"""


# ------------------------------------------------------------------------------------------------------------
# HTTP plumbing
# ------------------------------------------------------------------------------------------------------------
class _TooLarge(Exception):
    pass


class _BadRequest(Exception):
    pass


class _Server(ThreadingHTTPServer):
    """A threading HTTP server whose stop ends idle keep-alive connections, so its threads can be joined."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        self.gateway = gateway
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def end_idle_connections(self) -> None:
        """Close the reading side: idle connections see end-of-file; a request in progress still gets its answer."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RD)
            except OSError:  # already closed by the client
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "amends-local-gateway"
    timeout = 120  # an idle client cannot hold a thread forever
    server: _Server

    def _serve(self) -> None:
        started = time.monotonic()
        gateway = self.server.gateway
        target = urlsplit(self.path)
        request = Request(method=self.command, path=target.path or "/", query=target.query,
                          headers=list(self.headers.items()), body=b"", source_ip=self.client_address[0],
                          server_port=self.server.server_address[1])
        try:
            body = self._read_body()
        except _TooLarge:
            reply = gateway.too_large(request)
        except _BadRequest as bad:
            reply = gateway.refused(400, str(bad), request)
        else:
            reply = gateway.handle(dataclasses.replace(request, body=body))
        self._write(reply)
        logger.info("%s %s → %d (%d ms)", self.command, self.path, reply.status,
                    (time.monotonic() - started) * 1000)

    def __getattr__(self, name: str) -> Any:
        # http.server serves a method only if the handler has do_<METHOD>, and answers any other with an HTML 501.
        # API Gateway answers every method itself (no route has it: MISSING_AUTHENTICATION_TOKEN), so every
        # method goes to the gateway.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":  # a bare "GET /" line: API Gateway speaks HTTP/1.1 and HTTP/2
            self.send_error(400, "HTTP/0.9 requests are not accepted: send an HTTP/1.1 request")
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line, HTTP/0.9, a bad version, oversized or malformed
        headers) as problem+json through the Api's gateway responses, never its HTML error page."""
        if self.request_version in ("HTTP/0.9", ""):
            self.request_version = "HTTP/1.1"  # else http.server writes no status line and no headers
        try:
            detail = message or HTTPStatus(code).phrase
        except ValueError:
            detail = "The request could not be read"
        self._write(self.server.gateway.refused(code, detail))

    def _read_body(self) -> bytes:
        """The request body; :class:`_TooLarge` past API Gateway's limit, once the excess is drained.

        Draining (up to a sane bound) lets the client finish sending and read the 413, instead of seeing a reset.
        """
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise _BadRequest("Content-Length is not a number") from None
        if length > MAX_PAYLOAD_BYTES:
            if length <= DRAIN_LIMIT_BYTES:
                self._discard(length)
            raise _TooLarge
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        body, size_seen = bytearray(), 0
        while True:
            try:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            except ValueError:
                raise _BadRequest("malformed chunked body") from None
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                if size_seen > MAX_PAYLOAD_BYTES:
                    raise _TooLarge
                return bytes(body)
            size_seen += size
            if size_seen > DRAIN_LIMIT_BYTES:
                raise _TooLarge
            chunk = self.rfile.read(size)
            if size_seen <= MAX_PAYLOAD_BYTES:
                body += chunk
            self.rfile.readline()

    def _discard(self, length: int) -> None:
        while length > 0:
            read = len(self.rfile.read(min(length, 1 << 20)) or b"")
            if not read:
                return
            length -= read

    def _write(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if reply.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)
