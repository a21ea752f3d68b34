"""Security schemes named by the routes' OpenAPI documentation (API Gateway enforces them, not this code).

Written as the OpenAPI objects themselves, not with Powertools' OpenAPI models: the handlers only name the
schemes, and importing those models (all of OpenAPI as pydantic classes) was the largest single cost of the API
functions' cold starts. The docs generator validates the schemes when it builds the document.
"""

from __future__ import annotations

from typing import Any

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
