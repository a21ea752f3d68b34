"""Template: intrinsics resolved to the local world's names, typed accessors (no emulator needed)."""

from __future__ import annotations

import json

import pytest
from amends_local.template import ApiRoute, GatewayResponse, Template, TemplateError

from .conftest import FIXTURES, ROOT


@pytest.fixture(scope="module")
def fixture() -> Template:
    return Template(FIXTURES / "template.yaml", queue_endpoint="http://127.0.0.1:9999")


@pytest.fixture(scope="module")
def real() -> Template:
    return Template(ROOT / "template.yaml", queue_endpoint="http://127.0.0.1:9999")


def test_refs_and_attributes_resolve_to_local_names(fixture: Template) -> None:
    echo = fixture.functions()["EchoFunction"]
    assert echo.environment == {
        "TABLE_NAME": "amends-ItemsTable",
        "GREETING": "hello",  # Fn::If on a false condition
        "QUEUE_URL": "http://127.0.0.1:9999/123456789012/amends-EchoQueue",
        "QUEUE_NAME": "amends-EchoQueue",
    }
    assert (echo.name, echo.arn) == (
        "amends-EchoFunction",
        "arn:aws:lambda:eu-west-2:123456789012:function:amends-EchoFunction",
    )
    assert (echo.timeout, echo.memory_size, echo.module_file, echo.handler_attribute) == (
        5,
        256,
        "app.py",
        "lambda_handler",
    )
    assert fixture.event_buses()["Bus"].name == "fixture-test-bus"
    assert fixture.resolve({"Fn::Sub": "${AWS::StackName}-${AWS::Region}-${Bus.Arn}-${!Literal}"}) == (
        "amends-eu-west-2-arn:aws:events:eu-west-2:123456789012:event-bus/fixture-test-bus-${Literal}"
    )
    assert fixture.resolve(
        {"Fn::Join": ["/", [{"Ref": "Stage"}, {"Fn::GetAtt": ["OrderMachine", "Name"]}]]}
    ) == ("test/amends-OrderMachine")
    with pytest.raises(TemplateError, match="GetAtt EchoQueue.Nope"):
        fixture.resolve({"Fn::GetAtt": ["EchoQueue", "Nope"]})


def test_conditions_drop_resources_and_parameters_come_from_the_environment(monkeypatch) -> None:
    assert "OnlyForOther" not in Template(FIXTURES / "template.yaml").resources
    monkeypatch.setenv("AMENDS_PARAM_Stage", "other")
    other = Template(FIXTURES / "template.yaml")
    assert "OnlyForOther" in other.resources
    assert other.event_buses()["Bus"].name == "fixture-other-bus"
    assert other.functions()["TickFunction"].environment["GREETING"] == "not-used"
    monkeypatch.setenv("AMENDS_PARAM_Stage", "prod")
    with pytest.raises(TemplateError, match="not one of"):
        Template(FIXTURES / "template.yaml")


def test_queues_rules_and_state_machines(fixture: Template) -> None:
    echo = fixture.queues()["EchoQueue"]
    assert echo.redrive_policy == {
        "deadLetterTargetArn": "arn:aws:sqs:eu-west-2:123456789012:amends-EchoDLQ",
        "maxReceiveCount": 2,
    }
    assert echo.visibility_timeout == 1
    rules = fixture.rules()
    assert set(rules) == {
        "AuditRule",
        "GhostRule",
        "UnwelcomeRule",
        "TickFunctionHourly",
        "LateFunctionNightly",
        "BusFunctionPinged",
        "OrderMachineOrderPlaced",
    }
    assert (
        rules["TickFunctionHourly"].schedule == "rate(1 hour)"
        and rules["TickFunctionHourly"].bus_name == "default"
    )
    assert (
        rules["TickFunctionHourly"].arn
        == "arn:aws:events:eu-west-2:123456789012:rule/amends-TickFunctionHourly"
    )
    placed = rules["OrderMachineOrderPlaced"]
    assert placed.bus_name == "fixture-test-bus"
    assert placed.event_pattern == {"source": ["fixture.orders"], "detail-type": ["OrderPlaced"]}
    assert placed.targets[0].service == "states"
    assert fixture.functions()["BusFunction"].event_invoke_config["MaximumRetryAttempts"] == 1
    assert (
        rules["BusFunctionPinged"].targets[0].dead_letter_arn
        == "arn:aws:sqs:eu-west-2:123456789012:amends-RuleDLQ"
    )
    machine = fixture.state_machines()["OrderMachine"]
    task = json.loads(machine.definition)["States"]["Check"]
    assert task["Parameters"]["FunctionName"] == fixture.functions()["StepFunction"].arn
    stream = fixture.function_events("DynamoDB")[0]
    assert (stream.owner_id, stream.source_id) == ("StreamFunction", "ItemsTable")


def test_api_routes_and_gateway_responses(fixture: Template) -> None:
    assert fixture.api_routes() == [
        ApiRoute("EchoFunction", "POST", "/echo/{id}", None, "Api", "Echo"),
        ApiRoute("EchoFunction", "GET", "/secret", "Staff", "Api", "Secret"),
        ApiRoute("SleeperFunction", "POST", "/sleep", None, "Api", "Sleep"),
        ApiRoute("SleeperFunction", "GET", "/throttled", None, "Api", "Throttled"),
        ApiRoute("SlowFunction", "POST", "/sleep-briefly", None, "Api", "Briefly", 1000),
    ]
    assert fixture.api_method_settings() == [
        {"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 100},
        {"ResourcePath": "/~1throttled", "HttpMethod": "GET", "ThrottlingRateLimit": 1, "ThrottlingBurstLimit": 2},
    ]
    assert fixture.api_stage() == "test"
    assert fixture.api_auth()["DefaultAuthorizer"] == "Staff"
    assert fixture.gateway_responses() == [
        GatewayResponse(
            "MISSING_AUTHENTICATION_TOKEN",
            404,
            {"Content-Type": "'application/problem+json'", "Access-Control-Allow-Origin": "method.request.header.Origin"},
            '{"status":404}',
        ),
        GatewayResponse("THROTTLED", 429, {"Retry-After": "'1'"}, None),
    ]
    assert fixture.detached_gateway_responses() == ["NotFound"]  # declared, but not what a deployment carries


def test_gateway_response_headers_follow_conditions(monkeypatch) -> None:
    monkeypatch.setenv("AMENDS_PARAM_Stage", "other")
    headers = Template(FIXTURES / "template.yaml").gateway_responses()[0].headers
    assert headers["X-Stage"] == "'other'"


def test_the_real_template_reads_whole(real: Template) -> None:
    functions = real.functions()
    assert all(fn.environment["TABLE_NAME"] == "amends-CasesTable" for fn in functions.values())
    assert functions["NotificationsFunction"].environment["SENDER_ADDRESS"] == "complaints@example.com"
    assert functions["OutboxSweeperFunction"].timeout == 60
    assert {r.authorizer for r in real.api_routes()} == {None, "StaffCognito"}
    declared = real.resources["AmendsApi"]["Properties"]["GatewayResponses"]
    assert [r.response_type for r in real.gateway_responses()] == list(declared)
    assert real.detached_gateway_responses() == []  # every gateway response is on the Api
    assert real.sender_address() == "complaints@example.com"
    assert "AlarmEmailSubscription" not in real.resources  # HasAlarmEmail is false by default
    assert "${" not in real.state_machines()["CaseLifecycleStateMachine"].definition


def test_each_function_has_its_own_environment_timeout_and_concurrency(fixture: Template) -> None:
    functions = fixture.functions()
    sleeper, echo = functions["SleeperFunction"], functions["EchoFunction"]
    assert sleeper.environment == {"TABLE_NAME": "amends-ItemsTable", "GREETING": "hello", "SLEEPER_ONLY": "mine"}
    assert "SLEEPER_ONLY" not in echo.environment and "QUEUE_URL" not in sleeper.environment
    assert (sleeper.timeout, sleeper.reserved_concurrency) == (2, 2)
    assert (echo.timeout, echo.reserved_concurrency) == (5, None)
