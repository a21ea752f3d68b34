"""python -m amends_local: run the whole stack locally, or print a staff token for it.

  run     what ``make run`` calls: every resource of template.yaml on 127.0.0.1, the API on $AMENDS_PORT
          (default 3000), data kept under .local/ between runs; Ctrl-C stops it.
  token   what ``make token ROLE=handler`` calls: prints a signed staff ID token, and nothing else, so it can be
          used as $(make token). Works whether or not the stack is running (same key in .local/local-idp/).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from amends_local.auth import ROLES, LocalIdentityProvider, check_role

ROOT = Path(__file__).resolve().parents[2]  # infra/amends_local/ → the repository
STATE_DIR = ROOT / ".local"
CLOCK_FILE = STATE_DIR / "clock.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m amends_local", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="{run,token}")

    commands.add_parser("run", help="run the local stack until Ctrl-C (make run)",
                        description="Run the whole stack locally on http://127.0.0.1:$AMENDS_PORT (default 3000).")

    token = commands.add_parser(
        "token", help="print a staff ID token (make token ROLE=handler)",
        description="Print a staff ID token the local API accepts: "
                    "curl -H \"Authorization: Bearer $(make token ROLE=handler)\" http://127.0.0.1:3000/staff/cases")
    token.add_argument("--role", required=True, type=_roles, metavar="ROLE",
                       help=f"one of {', '.join(ROLES)}; several comma-separated for a user in several groups")
    token.add_argument("--sub", help="the user's id (default: local-<role>)")
    token.add_argument("--email", help="the user's email (default: <sub>@example.com)")
    token.add_argument("--ttl", type=_seconds, default=3600, help="seconds the token is valid (default 3600, as Cognito)")

    args = parser.parse_args(argv)
    if args.command == "token":
        return _token(args.role, args.sub, args.email, args.ttl)
    return _run()


def _roles(text: str) -> list[str]:
    try:
        return [check_role(role.strip()) for role in text.split(",") if role.strip()] or [check_role("")]
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _seconds(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return int(text)


def _token(groups: list[str], sub: str | None, email: str | None, ttl: int) -> int:
    from amends_local.clock import RuntimeClock

    # The running stack's clock may have been moved forward; tokens are issued (and expire) in its time.
    clock = RuntimeClock(CLOCK_FILE if CLOCK_FILE.exists() else None)
    sub = sub or f"local-{groups[0]}"
    idp = LocalIdentityProvider(STATE_DIR, clock=clock)
    print(idp.issue_token(sub, email or f"{sub}@example.com", groups, ttl=ttl))
    return 0


def _run() -> int:
    from amends_local.stack import LocalStack

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()
        signal.signal(signum, signal.SIG_DFL)  # a second Ctrl-C while stopping really interrupts

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    # AMENDS_IAM=warn: calls a function's policy does not allow are logged and let through, while exploring.
    stack = LocalStack(root=ROOT, persist=True, api_port=int(os.environ.get("AMENDS_PORT", "3000")),
                       iam=os.environ.get("AMENDS_IAM", "enforce") or "enforce",
                       smtp_port=int(os.environ.get("AMENDS_SMTP_PORT", "2525")))
    stack.start()
    try:
        described = stack.describe()
        print(described if isinstance(described, str) else "\n".join(described))
        url = stack.api_url
        print(f"""
Try it:
  curl -s {url}/process
  curl -s -X POST {url}/complaints -H 'Content-Type: application/json' -H "Idempotency-Key: $(uuidgen)" \\
       -d '{{"complainant": {{"name": "Ada", "email": "ada@example.com"}}, "product_or_service": "Credit card",
            "description": "I was charged twice for one purchase.", "remedy_sought": "A refund",
            "preferred_contact_channel": "email"}}'
Staff routes need a token (roles: {', '.join(ROLES)}):
  curl -s -H "Authorization: Bearer $(make token ROLE=handler)" {url}/staff/cases
  or POST {url}/_local/token with {{"role": "handler"}}
Complain by email (SMTP on {stack.smtp_address}):
  python3 -c "import smtplib; from email.message import EmailMessage as M; m=M(); m['From']='Ada <ada@example.com>'; m['To']='complaints@example.com'; m['Subject']='Charged twice'; m.set_content('I was charged twice.'); smtplib.SMTP('127.0.0.1', {stack.smtp.port if stack.smtp else 2525}).send_message(m)"
API docs: {url}/docs   Move time forward: curl -X POST {url}/_local/clock -d '{{"advance": "P3D"}}'
Ctrl-C stops; data stays in .local/ (make clean forgets it).""", flush=True)
        stopping.wait()
        print("\nStopping...", flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
