"""Small helpers the services share."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import TypeVar

from amends.domain.errors import ConcurrentUpdate

T = TypeVar("T")


def hash_token(token: str) -> str:
    """Access tokens are 256-bit random strings, so a plain SHA-256 is enough; only the hash is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str | None, expected_hash: str) -> bool:
    return bool(token) and hmac.compare_digest(hash_token(token), expected_hash)


def with_optimistic_retry(command: Callable[[], T], attempts: int = 3) -> T:
    """Re-run a read-decide-write command when someone else wrote the case in between.

    The command re-reads the case each time, so the decision is always taken on the latest version.
    """
    for _ in range(attempts - 1):
        try:
            return command()
        except ConcurrentUpdate:
            pass
    return command()  # the last attempt: its ConcurrentUpdate goes to the caller
