"""The webhook in template.yaml: off by default; set, it sends the chosen case events to the endpoint through an
API destination with the key, under a role that may do that and nothing else, with a dead-letter queue."""

from __future__ import annotations

from pathlib import Path

import pytest
from amends.domain.events import CATALOGUE
from amends_local.template import Template, TemplateError

ROOT = Path(__file__).resolve().parents[2]
ON = {"WebhookEndpoint": "https://hooks.example.org/amends", "WebhookApiKey": "k3y"}


def webhook_resources(template: Template) -> set[str]:
    return {rid for rid in template.resources if rid.startswith("Webhook")}


def test_no_webhook_is_deployed_unless_an_endpoint_is_given() -> None:
    assert webhook_resources(Template(ROOT / "template.yaml")) == set()
    assert webhook_resources(Template(ROOT / "template.yaml", parameters=ON)) == {
        "WebhookConnection", "WebhookDestination", "WebhookRole", "WebhookRule", "WebhookDLQ", "WebhookDLQPolicy",
        "WebhookDLQAlarm", "WebhookRuleFailedInvocationsAlarm"}


def test_an_endpoint_without_its_key_is_refused_before_anything_is_created() -> None:
    with pytest.raises(TemplateError, match="needs the key its endpoint checks"):
        Template(ROOT / "template.yaml", parameters={"WebhookEndpoint": "https://hooks.example.org/amends"})


def test_only_an_https_endpoint_is_accepted() -> None:
    with pytest.raises(TemplateError, match="WebhookEndpoint"):
        Template(ROOT / "template.yaml", parameters={**ON, "WebhookEndpoint": "http://hooks.example.org/amends"})


def test_the_rule_sends_the_chosen_case_events_to_the_destination_with_the_key() -> None:
    template = Template(ROOT / "template.yaml", parameters={**ON, "WebhookEventTypes": "CaseOpened,SlaBreached"})
    rule = template.rules()["WebhookRule"]
    assert rule.bus_name == template.physical_name("CaseEventsBus")
    assert rule.event_pattern == {"source": ["amends.cases"], "detail-type": ["CaseOpened", "SlaBreached"]}
    [target] = rule.targets
    [destination] = template.api_destinations().values()
    assert target.arn == destination.arn and target.role_arn == template.arn("WebhookRole")
    assert target.dead_letter_arn == template.arn("WebhookDLQ")
    assert destination.endpoint == ON["WebhookEndpoint"] and destination.method == "POST"
    assert destination.headers == (("X-Api-Key", "k3y"),) and destination.rate_limit_per_second == 10


def test_the_default_event_types_are_events_the_system_publishes() -> None:
    default = Template(ROOT / "template.yaml").raw["Parameters"]["WebhookEventTypes"]["Default"].split(",")
    assert default and set(default) <= set(CATALOGUE)


def test_the_role_may_invoke_this_destination_and_nothing_else() -> None:
    template = Template(ROOT / "template.yaml", parameters=ON)
    role = template.resolve(template.resource("WebhookRole")["Properties"])
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    [policy] = role["Policies"]
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in policy["PolicyDocument"]["Statement"]] == [
        ("Allow", "events:InvokeApiDestination", template.arn("WebhookDestination"))]
