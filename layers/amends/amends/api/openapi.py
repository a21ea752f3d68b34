"""What the routes' OpenAPI documentation shares: security schemes (API Gateway enforces them, not this code) and
the error answers, so that every route lists every status it can answer, each as ``application/problem+json``
with the one :class:`~amends.api.problems.Problem` schema.

The schemes are written as the OpenAPI objects themselves, not with Powertools' OpenAPI models: the handlers only
name them, and importing those models (all of OpenAPI as pydantic classes) was the largest single cost of the API
functions' cold starts. The docs generator validates the schemes when it builds the document.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from amends.api.problems import CONTENT_TYPE, Problem

STAFF = "StaffCognito"
COMPLAINANT = "AccessToken"

SECURITY_SCHEMES: dict[str, Any] = {
    STAFF: {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "Cognito ID token of a staff user; roles come from its groups (handler, supervisor, manager, "
                       "auditor, admin). Locally: make token ROLE=handler.",
    },
    COMPLAINANT: {
        "type": "apiKey", "in": "header", "name": "X-Access-Token",
        "description": "The complainant's secret access token, given once when the complaint is filed.",
    },
}

# What any route can answer: API Gateway's own answers (its gateway responses, in template.yaml) and our last resort.
EVERY_ROUTE = {
    413: "The request is larger than the API accepts: about 6 MB, Lambda's limit once the request is wrapped in its "
         "event (API Gateway).",
    429: "Too many requests (API Gateway's throttling); Retry-After says when to try again.",
    500: "Our fault, nothing was changed; quote the request_id. Also API Gateway's own 500s.",
    502: "The function failed (API Gateway).",
    504: "The function did not answer in time, or could not be reached (API Gateway).",
}
# What routes behind the staff authorizer can answer besides.
STAFF_ROUTES = {
    401: "No valid staff token (API Gateway's Cognito authorizer): sign in again.",
    403: "Your role may not do this, or your account is in no staff group.",
}
# What routes that take a JSON body can answer besides.
JSON_BODY_ROUTES = {
    400: "The body is not JSON.",
    415: "The body is not sent as application/json.",
}
HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    409: {"Retry-After": {"description": "request-in-progress: seconds to wait", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait (throttling)", "schema": {"type": "string"}}},
}


def responses(success: int, description: str, errors: dict[int, str] | None = None, *, staff: bool = False,
              json_body: bool = False) -> dict[int, OpenAPIResponse]:
    """A route's documented answers: its success (schema from its return annotation), the errors it names
    (status → when), and the errors every route, every staff route, or every route with a JSON body can answer."""
    documented: dict[int, OpenAPIResponse] = {success: {"description": description}}
    shared = {**EVERY_ROUTE, **(STAFF_ROUTES if staff else {}), **(JSON_BODY_ROUTES if json_body else {})}
    for status, when in sorted({**shared, **(errors or {})}.items()):
        documented[status] = {"description": when, "content": {CONTENT_TYPE: {"model": Problem}}}
        if status in HEADERS:
            documented[status]["headers"] = HEADERS[status]
    return documented
