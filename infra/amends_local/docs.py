"""Generated documents that are committed: the OpenAPI document and the event catalogue.

``python -m amends_local.docs`` writes them; ``--check`` fails when the committed files differ from
what the code generates (CI runs it through the test suite).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "infra" / "openapi.json"
CATALOGUE = ROOT / "infra" / "catalogue" / "events"


def openapi_document() -> dict[str, Any]:
    """Merge the resolvers of every API function into one document (Powertools' OpenAPI merge)."""
    from amends.api.openapi import SECURITY_SCHEMES
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    resolver = APIGatewayRestResolver(enable_validation=True)
    resolver.configure_openapi_merge(
        path=str(ROOT / "functions"),
        pattern="app.py",
        recursive=True,
        title="Amends complaints API",
        version="0.1.0",
        openapi_version="3.1.0",
        description="ISO 10002:2018 complaints handling. Complainants file and follow complaints with a reference "
                    "and a secret access token; staff work cases with a Cognito ID token. Every error is RFC 9457 "
                    "problem+json.",
        security_schemes=SECURITY_SCHEMES,
        on_conflict="error",
    )
    return json.loads(resolver.get_openapi_merge_json_schema())


def event_catalogue() -> dict[str, dict[str, Any]]:
    from amends.domain.events import CATALOGUE, event_schema

    return {f"{name}.schema.json": event_schema(name) for name in CATALOGUE}


def _render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def expected_files() -> dict[Path, str]:
    files = {OPENAPI: _render(openapi_document())}
    files.update({CATALOGUE / name: _render(schema) for name, schema in event_catalogue().items()})
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed files are out of date")
    args = parser.parse_args(argv)
    expected = expected_files()
    if args.check:
        stale = [p for p, text in expected.items() if not p.exists() or p.read_text() != text]
        stale += [p for p in CATALOGUE.glob("*.json") if p not in expected]
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT)} (run: make docs)", file=sys.stderr)
        return 1 if stale else 0
    CATALOGUE.mkdir(parents=True, exist_ok=True)
    for old in CATALOGUE.glob("*.json"):
        if old not in expected:
            old.unlink()
    for path, text in expected.items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
