"""Human-friendly case references, e.g. ``CMP-2026-7K3F9Q``.

Crockford's base32 alphabet: no I, L, O or U, so a reference read over the phone cannot be confused.
Six random symbols give about a billion references per year; uniqueness is enforced by the store's
conditional write (a clash simply draws again), and cases are never deleted, so a reference is never reused.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PATTERN = re.compile(r"^CMP-\d{4}-[0-9A-HJKMNP-TV-Z]{6}$")


def new_reference(received_at: datetime, prefix: str = "CMP") -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(6))
    return f"{prefix}-{received_at.year:04d}-{body}"


def normalise(reference: str) -> str:
    """Accept what people type: lower case, spaces, and the letters Crockford maps (O→0, I/L→1)."""
    ref = reference.strip().upper().replace(" ", "")
    head, _, tail = ref.rpartition("-")
    tail = tail.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    return f"{head}-{tail}" if head else tail


def is_well_formed(reference: str) -> bool:
    return bool(PATTERN.match(reference))
