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
    return without_powertools_defaults(json.loads(resolver.get_openapi_merge_json_schema()))


# Powertools documents, for every route, a 422 (HTTPValidationError) when validation is on and a 500
# (ResponseValidationError) when the resolver sets response_validation_error_http_code; neither is what we send
# (our exception handlers answer both as problem+json). A route's own 422 replaces Powertools' (see
# amends.api.openapi.responses); one left is on a route that cannot answer it (no parameters, no body) and is
# dropped. The resolver-wide 500 is written over each route's own after the fact, so it is put back here.
REF_PREFIX = "#/components/schemas/"


def without_powertools_defaults(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with Powertools' default error responses replaced or dropped, and no unreferenced schemas."""
    from amends.api.openapi import EVERY_ROUTE
    from amends.api.problems import CONTENT_TYPE

    ours_500 = {"description": EVERY_ROUTE[500],
                "content": {CONTENT_TYPE: {"schema": {"$ref": f"{REF_PREFIX}Problem"}}}}
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            for status, response in list(responses.items()):
                if "HTTPValidationError" in _refs(response):
                    del responses[status]
                elif "ResponseValidationError" in _refs(response):
                    responses[status] = ours_500
    schemas = doc.get("components", {}).get("schemas", {})
    used: set[str] = set()
    pending = _refs({key: value for key, value in doc.items() if key != "components"})
    while pending:
        name = pending.pop()
        if name not in used and name in schemas:
            used.add(name)
            pending |= _refs(schemas[name])
    for name in set(schemas) - used:
        del schemas[name]
    return doc


def _refs(value: Any) -> set[str]:
    """Names of the component schemas ``value`` refers to, directly."""
    if isinstance(value, dict):
        found = {value["$ref"].removeprefix(REF_PREFIX)} if isinstance(value.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value))
    return set()


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
