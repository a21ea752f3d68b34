"""Email addresses as people are given them, checked without email-validator (see below)."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

# An email address as people are given them: a dot-atom before the @ (RFC 5322; any non-ASCII character too, RFC 6532)
# and a domain name after it, internationalised or not (IDNA 2008). The rules are email-validator's for what a mail
# provider hands out (no quoted local parts, no IP addresses, a domain with a top-level domain), without importing it:
# it compiles regular expressions over all of Unicode at import, an eighth of a cold start. Everything it accepted
# passes here, so cases stored before still load (tests/unit/test_email_address.py compares the two).
_ATOM = r"[^\x00-\x20\x7f()<>\[\]:;@\\,.\"]+"  # RFC 5322 atext, written as what it excludes: quick to compile
_DOT_ATOM = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")  # a DNS label, after IDNA encoding
_SPECIAL_USE = ("arpa", "invalid", "local", "localhost", "onion", "test")  # RFC 6761 and others: never mail


def email_address(value: str) -> str:
    """``value`` as an email address (NFC, the domain in lower case), or ValueError saying what to correct."""
    address = unicodedata.normalize("NFC", value.strip())
    local, at, domain = address.rpartition("@")
    if not at:
        raise ValueError("value is not a valid email address: it needs an @-sign, as in name@example.com")
    if not all(c.isprintable() and not c.isspace() for c in address):
        raise ValueError("value is not a valid email address: it contains a space or an invisible character")
    if unicodedata.category(address[0]).startswith("M"):
        raise ValueError("value is not a valid email address: it starts with an accent that has no letter under it")
    if not _DOT_ATOM.fullmatch(local):
        raise ValueError("value is not a valid email address: the part before the @-sign cannot be empty, contain "
                         "spaces or any of ( ) < > [ ] : ; @ \\ , \" or start or end with a dot or have two in a row")
    domain = domain.lower()
    labels = (domain if domain.isascii() else _idna(domain)).split(".")
    if (len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels) or not labels[-1][-1].isalpha()
            or labels[-1] in _SPECIAL_USE or len(".".join(labels)) > 253):
        raise ValueError(f"value is not a valid email address: the part after the @-sign ({domain}) is not a domain "
                         f"name that receives mail, such as example.com")
    if len(local) + 1 + len(".".join(labels)) > 254:
        raise ValueError("value is not a valid email address: it is longer than 254 characters")
    return f"{local}@{domain}"


def _idna(domain: str) -> str:
    """An internationalised domain name in ASCII (IDNA 2008, as email-validator checks it); the tables load only when
    an address has one."""
    import idna

    try:
        mapped = idna.uts46_remap(domain, std3_rules=False, transitional=False)
        return ".".join(idna.alabel(label).decode("ascii") if label else label for label in mapped.split("."))
    except idna.IDNAError:
        return ""  # not a domain name: the caller says so


EmailAddress = Annotated[str, AfterValidator(email_address), WithJsonSchema({"type": "string", "format": "email"})]
