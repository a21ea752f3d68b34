"""The local identity provider: a stand-in for the staff Cognito user pool.

It signs RS256 ID tokens shaped like Cognito's (sub, email, cognito:username, cognito:groups, token_use "id",
aud = the app client id, iss = the pool's issuer URL, auth_time, iat, exp) and verifies them the way the
API Gateway Cognito user pool authorizer does. The RSA key is generated once into ``<state_dir>/local-idp/``
(under the git-ignored ``.local/``), so ``make token`` and a running ``make run`` share it and tokens stay
valid across restarts.

The issuer is a fixed string, not the gateway's URL: tokens must not depend on the port the stack happens to
listen on, and the string has the shape of a real pool's issuer so code reading ``iss`` sees what it would see
on AWS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://cognito-idp.eu-west-2.amazonaws.com/local-staff-pool"
CLIENT_ID = "local-staff-console"
ROLES = ("handler", "supervisor", "manager", "auditor", "admin")  # the pool's groups in template.yaml
KEY_DIR = "local-idp"
KEY_FILE = "private-key.pem"

# What the Cognito authorizer answers (the gateway puts these in $context.error.message).
UNAUTHORIZED = "Unauthorized"
EXPIRED = "The incoming token has expired"


class Clock(Protocol):
    def now(self) -> datetime: ...


class TokenRejected(Exception):
    """The token is not one the authorizer accepts; ``str(error)`` is API Gateway's message for it."""


class LocalIdentityProvider:
    """Issues and verifies staff ID tokens with one RSA key kept in ``<state_dir>/local-idp/``."""

    def __init__(self, state_dir: Path, *, clock: Clock | None = None,
                 issuer: str = ISSUER, client_id: str = CLIENT_ID) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self._clock = clock
        self._private_key = _load_or_create_key(Path(state_dir) / KEY_DIR / KEY_FILE)
        self._public_key = self._private_key.public_key()
        self._jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._public_key)), "alg": "RS256",
                     "use": "sig"}
        self.kid = _thumbprint(self._jwk)
        self._jwk["kid"] = self.kid

    def now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    def jwks(self) -> dict[str, Any]:
        """The public key set, as Cognito serves it at ``<issuer>/.well-known/jwks.json``."""
        return {"keys": [dict(self._jwk)]}

    def issue_token(self, sub: str, email: str, groups: Sequence[str], ttl: int = 3600,
                    now: datetime | None = None) -> str:
        """A signed ID token valid for ``ttl`` seconds from ``now`` (default: the injected clock's now)."""
        if ttl <= 0:
            raise ValueError("ttl must be a positive number of seconds")
        issued = int((now or self.now()).timestamp())
        claims = {
            "sub": sub,
            "email": email,
            "email_verified": True,
            "cognito:username": sub,
            "cognito:groups": list(groups),
            "token_use": "id",
            "aud": self.client_id,
            "iss": self.issuer,
            "auth_time": issued,
            "iat": issued,
            "exp": issued + ttl,
            "jti": str(uuid.uuid4()),
            "origin_jti": str(uuid.uuid4()),
            "event_id": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self.kid})

    def verify(self, token: str, now: datetime | None = None) -> dict[str, Any]:
        """The token's claims if it is a valid ID token of this pool at ``now``; else :class:`TokenRejected`.

        Time is checked here against ``now`` rather than by PyJWT, which would use the wall clock and so
        ignore a local clock that has been moved forward.
        """
        try:
            claims = jwt.decode(
                token, self._public_key, algorithms=["RS256"], audience=self.client_id, issuer=self.issuer,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                         "require": ["exp", "iat", "sub", "token_use"]},
            )
        except jwt.PyJWTError as error:
            raise TokenRejected(UNAUTHORIZED) from error
        if claims.get("token_use") != "id":  # the authorizer takes access tokens only with scopes configured
            raise TokenRejected(UNAUTHORIZED)
        at = (now or self.now()).timestamp()
        if "nbf" in claims and at < float(claims["nbf"]):
            raise TokenRejected(UNAUTHORIZED)
        if at >= float(claims["exp"]):
            raise TokenRejected(EXPIRED)
        return claims


def check_role(role: str) -> str:
    """The role if it is one of the pool's groups; else a ValueError saying which ones exist."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role


def _load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    """Read the key, or create it atomically so a CLI and a running stack never end up with different keys."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        try:
            os.link(temporary, path)  # fails if another process got there first: then its key wins
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA private key; delete it to get a new one")
    return key


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint: a key id that changes exactly when the key does."""
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def claims_for_api_gateway(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as a REST API's Cognito authorizer hands them to the integration (``requestContext.authorizer.claims``).

    Every value becomes a string: lists are comma-joined (``cognito:groups`` "handler,supervisor"), booleans are
    "true"/"false", ``exp`` and ``iat`` are rendered as Java dates ("Mon Nov 23 10:25:00 UTC 2026") and other
    numbers (``auth_time``) as decimal strings. That is what AWS sends, and what the sample events in events/
    show; handlers that parse the claims must cope with it.
    """
    out: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("exp", "iat") and isinstance(value, int | float):
            out[name] = java_date(datetime.fromtimestamp(value, UTC))
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, list):
            out[name] = ",".join(str(v) for v in value)
        elif isinstance(value, dict):
            out[name] = json.dumps(value, separators=(",", ":"))
        else:
            out[name] = str(value)
    return out


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def java_date(when: datetime) -> str:
    """``java.util.Date#toString`` in UTC, independent of the process locale."""
    utc = when.astimezone(UTC)
    return f"{_DAYS[utc.weekday()]} {_MONTHS[utc.month - 1]} {utc:%d %H:%M:%S} UTC {utc.year}"

