"""cfn-lint rule: every public route of a REST API is throttled by its own method settings.

The stage-wide default ("/*/*") is sized for staff; a complainant route, open to anyone, gets the tighter
per-method limits (PublicRateLimit/PublicBurstLimit). Loaded through .cfnlintrc like the other rule files.
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# CORS preflights are answered without our code and stay under the stage-wide limit.
UNTHROTTLED_METHODS = {"OPTIONS"}


def _method_setting_key(path: str, method: str) -> tuple[str, str]:
    """MethodSettings' ResourcePath escapes each '/' of the path as '~1': /complaints/{id} → /~1complaints~1{id}."""
    return "/" + path.replace("/", "~1"), method.upper()


class PublicRoutesAreThrottled(CloudFormationLintRule):
    id = "E9010"
    shortdesc = "Public route without its own throttling"
    description = ("Each Api event without an authorizer (Auth.Authorizer NONE, or no default authorizer) has a "
                   "MethodSettings entry on its Api with ThrottlingRateLimit and ThrottlingBurstLimit.")
    source_url = "https://github.com/amends/amends/blob/main/README.md#design-notes"
    tags = ["amends", "api", "throttling"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        resources = cfn.template.get("Resources", {})
        apis = {name: r.get("Properties", {}) for name, r in resources.items() if r.get("Type") == "AWS::Serverless::Api"}
        throttled = {
            api: {
                (m.get("ResourcePath"), str(m.get("HttpMethod", "")).upper())
                for m in props.get("MethodSettings", [])
                if isinstance(m, dict) and "ThrottlingRateLimit" in m and "ThrottlingBurstLimit" in m
            }
            for api, props in apis.items()
        }
        matches = []
        for name, fn in resources.items():
            if fn.get("Type") != "AWS::Serverless::Function":
                continue
            for event_name, event in fn.get("Properties", {}).get("Events", {}).items():
                props = event.get("Properties", {})
                api = props.get("RestApiId", {}).get("Ref") if isinstance(props.get("RestApiId"), dict) else None
                method = str(props.get("Method", "")).upper()
                if event.get("Type") != "Api" or api not in apis or method in UNTHROTTLED_METHODS:
                    continue
                authorizer = props.get("Auth", {}).get("Authorizer",
                                                        apis[api].get("Auth", {}).get("DefaultAuthorizer"))
                if authorizer not in (None, "NONE"):
                    continue
                if _method_setting_key(props.get("Path", ""), method) not in throttled[api]:
                    matches.append(RuleMatch(["Resources", name, "Properties", "Events", event_name],
                                             f"public route {method} {props.get('Path')} needs a MethodSettings "
                                             f"entry on {api} with ThrottlingRateLimit and ThrottlingBurstLimit"))
        return matches
