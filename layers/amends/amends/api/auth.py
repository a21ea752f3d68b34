"""Who is calling a staff endpoint, from the claims the Cognito authorizer verified."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from amends.api.problems import ProblemError
from amends.domain.model import Actor, Role


def parse_groups(raw: Any) -> list[str]:
    """API Gateway hands ``cognito:groups`` over as a string: 'a,b' (REST), '[a b]' (HTTP API), or JSON."""
    if raw is None:
        return []
    if isinstance(raw, list):
        return [str(g) for g in raw]
    text = str(raw).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            value = json.loads(text)
            if isinstance(value, list):
                return [str(g) for g in value]
        except ValueError:
            pass
        text = text[1:-1]
    return [g for g in text.replace(",", " ").split() if g]


def staff_actor(claims: dict[str, Any] | None, allowed: Iterable[Role] | None = None) -> Actor:
    if not claims or not claims.get("sub"):
        raise ProblemError(401, "unauthorized", "Sign-in required",
                           "Send a valid staff token in the Authorization header.",
                           headers={"WWW-Authenticate": "Bearer"})
    roles = tuple(Role(g) for g in parse_groups(claims.get("cognito:groups")) if g in Role._value2member_map_)
    if not roles:
        raise ProblemError(403, "forbidden", "Not allowed for your role",
                           "Your account is not in any staff group (handler, supervisor, manager, auditor, admin). "
                           "Ask an administrator to add you to one.")
    if allowed is not None:
        allowed = set(allowed)
        if not allowed & set(roles):
            names = ", ".join(sorted(r.value for r in allowed))
            raise ProblemError(403, "forbidden", "Not allowed for your role",
                               f"This needs one of these roles: {names}. You have: "
                               f"{', '.join(r.value for r in roles)}.")
    return Actor(kind="staff", id=str(claims["sub"]), roles=roles)
