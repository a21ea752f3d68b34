"""The local API Gateway: template.yaml's REST API (``AWS::Serverless::Api``) in front of the project's handlers.

It does what API Gateway does for a REST API with Lambda proxy integrations (payload format 1.0), so the
handlers see the events they will see on AWS and clients see the answers they will get there:

* routes come from the functions' ``Api`` events; literal path segments win over ``{param}`` ones; an unknown
  path, or a known path with another method, is API Gateway's MISSING_AUTHENTICATION_TOKEN;
* routes with an authorizer need a valid ID token of the (local) staff user pool, checked like the Cognito user
  pool authorizer does, and the handler gets the claims as strings in ``requestContext.authorizer.claims``;
* the answers API Gateway gives itself (401, 404, 413, 502...) are rendered from the Api's ``GatewayResponses``,
  as deployed (:mod:`amends_local.gateway_responses`);
* each method is throttled as the stage's MethodSettings say (:mod:`amends_local.throttling`): THROTTLED, 429;
* the function is invoked as API Gateway invokes it (the event and the proxy response are in
  :mod:`amends_local.proxy_integration`), within Lambda's and API Gateway's limits (:mod:`amends_local.limits`):
  an event over 6 MB is 413 (Lambda refuses it), no answer within the integration timeout (29 s, or the Api
  event's TimeoutInMillis) is INTEGRATION_TIMEOUT, 504, while the function runs on; a function at its reserved
  concurrency is throttled by Lambda, which API Gateway answers with 500 (INTEGRATION_FAILURE), as on AWS;
* a function error, a result over 6 MB or one that is not a valid proxy response is 502 (the log says why).

The HTTP side (reading requests within API Gateway's 10 MB, writing replies) is :mod:`amends_local.gateway_http`.

Local-only extras, not part of the API and not in template.yaml: ``GET /openapi.json``, ``GET /docs`` (Swagger UI,
served offline), ``GET|POST /_local/clock``, ``POST /_local/token``, ``GET /_local/mail`` (the mail the stack sent:
:mod:`amends_local.sent_mail`) and ``GET /local-idp/.well-known/jwks.json``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from amends_local import limits, sent_mail
from amends_local.auth import ROLES, LocalIdentityProvider, TokenRejected, check_role, claims_for_api_gateway
from amends_local.environments import FunctionBusy
from amends_local.gateway_http import MAX_PAYLOAD_BYTES, Reply, Request, Server
from amends_local.gateway_responses import GatewayResponses, error_type
from amends_local.proxy_integration import MalformedProxyResponse, Route, build_event, proxy_reply
from amends_local.throttling import StageThrottle

__all__ = ["MAX_PAYLOAD_BYTES", "Gateway", "Reply", "Request", "Router", "parse_duration"]

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_FILE = ROOT / "infra" / "openapi.json"
SWAGGER_PACKAGE = "aws_lambda_powertools.event_handler.openapi.swagger_ui"
SWAGGER_ASSETS = {"swagger-ui-bundle.min.js": "text/javascript; charset=utf-8",
                  "swagger-ui.min.css": "text/css; charset=utf-8"}

ANY_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}  # what a REST API's ANY method covers


class Clock(Protocol):
    def now(self) -> datetime: ...
    def advance(self, by: timedelta) -> Any: ...


Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


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
                 state_dir: Path, openapi_file: Path = OPENAPI_FILE,
                 on_signed_in: Callable[[dict[str, Any]], None] | None = None) -> None:
        """``on_signed_in`` hears the claims of each staff token the gateway accepts (the user pool adds the user)."""
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError(f"The local gateway only listens on the loopback interface, not {host!r}")
        self._invoke = invoke
        self._on_signed_in = on_signed_in
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
        self._throttle = StageThrottle(getattr(template, "api_method_settings", list)())
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
            ("GET", "/_local/mail"): lambda request: sent_mail.serve(request, sent_mail.sent_mail_dir(state_dir),
                                                                     json_reply, problem),
        }
        for asset in SWAGGER_ASSETS:
            self._local_routes[("GET", f"/docs/{asset}")] = self._swagger_asset
        shadowed = [f"{r.method} {r.path}" for r in routes if (r.method, r.path) in self._local_routes]
        if shadowed:
            raise ValueError(f"template.yaml routes collide with the local-only routes: {', '.join(shadowed)}")
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ---- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Listen and serve in a background thread; port 0 picks a free port (see :attr:`url`)."""
        with self._lock:
            if self._server is not None:
                return
            self._server = Server(self._address, self)
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
        if not self._throttle.allow(route.path, request.method):
            return self._gateway_response("THROTTLED", "Too Many Requests", request_id, request)
        claims = None
        if route.authorizer is not None:
            try:
                claims = claims_for_api_gateway(self._authorize(route, request))
            except TokenRejected as rejected:
                return self._gateway_response("UNAUTHORIZED", str(rejected), request_id, request)
        event = build_event(request, route, path_parameters, stage=self._stage, request_id=request_id,
                            now=self._clock.now(), claims=claims, binary_media_types=self._binary_media_types)
        timeout = (getattr(route, "timeout_in_millis", None) or limits.INTEGRATION_TIMEOUT_MS) / 1000
        try:
            result = limits.within(timeout, lambda: self._invoke(route.function_id, event), name=f"api:{request_id}")
        except limits.IntegrationTimeout:
            logger.error("%s %s: %s did not answer within %gs; it runs on to its own Timeout (request %s)",
                         request.method, request.path, route.function_id, timeout, request_id)
            return self._gateway_response("INTEGRATION_TIMEOUT", "Endpoint request timed out", request_id, request)
        except limits.RequestTooLarge as refused:  # Lambda refused the event: the function never ran
            logger.warning("%s %s: %s (request %s)", request.method, request.path, refused, request_id)
            return self._gateway_response("REQUEST_TOO_LARGE", "Request Too Long", request_id, request)
        except FunctionBusy as throttled:  # Lambda refused the invocation: API Gateway answers 500 for it
            logger.warning("%s %s: Lambda throttled %s: %s (request %s)", request.method, request.path,
                           route.function_id, throttled, request_id)
            return self._gateway_response("INTEGRATION_FAILURE", "Internal server error", request_id, request,
                                          status=500)
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
        claims = self.idp.verify(token, self._clock.now())
        if self._on_signed_in is not None:
            self._on_signed_in(claims)
        return claims

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
