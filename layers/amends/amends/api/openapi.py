"""Security schemes named by the routes' OpenAPI documentation (API Gateway enforces them, not this code)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer

STAFF = "StaffCognito"
COMPLAINANT = "AccessToken"

SECURITY_SCHEMES = {
    STAFF: HTTPBearer(
        description="Cognito ID token of a staff user; roles come from its groups (handler, supervisor, manager, "
                    "auditor, admin). Locally: make token ROLE=handler.",
        bearerFormat="JWT",
    ),
    COMPLAINANT: APIKey(name="X-Access-Token", **{"in": APIKeyIn.header},
                        description="The complainant's secret access token, given once when the complaint is filed."),
}
