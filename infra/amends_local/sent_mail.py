"""The mail the stack sent, kept locally: each function that sends gets ``AMENDS_LOCAL_MAIL_DIR`` (set by
``lambdas.py``; in AWS it is never set) and the layer's mailer then writes every message it sends there as an
``.eml`` file (``amends.adapters.local_mail``). The gateway lists them at ``GET /_local/mail`` (newest first, with
who, what and the Message-ID a reply would quote) and serves one at ``GET /_local/mail?name=<file>``.
"""

from __future__ import annotations

import email.policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from amends_local.gateway_http import Reply, Request

ENV_VAR = "AMENDS_LOCAL_MAIL_DIR"


def sent_mail_dir(state_dir: Path) -> Path:
    """``.local/mail/sent`` under ``make run``."""
    return state_dir / "mail" / "sent"


def listing(directory: Path) -> list[dict[str, Any]]:
    files = sorted(directory.glob("*.eml"), key=lambda p: p.name, reverse=True) if directory.is_dir() else []
    out = []
    for path in files:
        with path.open("rb") as handle:
            headers = BytesHeaderParser(policy=email.policy.default).parse(handle)
        out.append({"name": path.name, "file": str(path), "to": headers.get("To"), "subject": headers.get("Subject"),
                    "date": headers.get("Date"), "message_id": headers.get("Message-ID"),
                    "in_reply_to": headers.get("In-Reply-To"), "reply_to": headers.get("Reply-To"),
                    "auto_submitted": headers.get("Auto-Submitted")})
    return out


def serve(request: Request, directory: Path, json_reply: Any, problem: Any) -> Reply:
    """The list, or with ``?name=`` one message as ``message/rfc822``."""
    names = parse_qs(request.query).get("name")
    if not names:
        return json_reply({"directory": str(directory), "messages": listing(directory)})
    name = names[0]
    path = directory / name
    if "/" in name or "\\" in name or not name.endswith(".eml") or not path.is_file():
        return problem(404, "No such message", f"{name!r} is not one of the messages in {directory} (GET /_local/mail "
                                                f"lists them).")
    return Reply(200, [("Content-Type", "message/rfc822")], path.read_bytes())
