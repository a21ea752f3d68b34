"""API Gateway's own answers, rendered from the Api's GatewayResponses in template.yaml (RFC 9457 problem+json)."""

from __future__ import annotations

import json
import logging

import pytest
import requests
from amends_local.gateway import MAX_PAYLOAD_BYTES
from amends_local.gateway_responses import DEFAULT_STATUS, GatewayResponses

from tests.gateway.conftest import Route

PROBLEM_KEYS = {"type", "title", "detail"}  # status is optional (RFC 9457): DEFAULT_4XX/5XX cannot know it


def _problem(response: requests.Response) -> dict:
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert PROBLEM_KEYS <= body.keys()
    return body


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/no/such/route"),
    ("GET", "/"),
    ("DELETE", "/complaints"),  # a known resource, another method: still MISSING_AUTHENTICATION_TOKEN
    ("GET", "/complaints/CMP-1/messages"),
    ("OPTIONS", "/no/such/route"),
])
def test_no_route_is_the_templates_404(url, recorder, method, path) -> None:
    response = requests.request(method, f"{url}{path}", timeout=10)
    assert response.status_code == 404
    problem = _problem(response)
    assert problem["status"] == 404 and problem["title"] == "No such endpoint"
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert recorder.calls == []


def test_a_missing_token_is_the_templates_401(url, recorder) -> None:
    response = requests.get(f"{url}/staff/cases", timeout=10)
    assert response.status_code == 401
    assert _problem(response)["status"] == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert recorder.calls == []


def test_a_failing_handler_is_502_rendered_through_default_5xx(url, recorder, caplog) -> None:
    recorder.reply = RuntimeError("boom")
    with caplog.at_level(logging.ERROR, logger="amends_local.gateway"):
        response = requests.get(f"{url}/process", timeout=10)
    assert response.status_code == 502
    assert _problem(response)["title"] == "Service unavailable"
    assert any(record.exc_info and "boom" in str(record.exc_info[1]) for record in caplog.records)


@pytest.mark.parametrize("reply", [
    {"statusCode": 200, "body": {"not": "a string"}},
    {"statusCode": 200, "body": "", "cookies": ["a=1"]},  # a payload 2.0 key: malformed for a REST API
    {"statusCode": "two hundred", "body": ""},
    "just a string",
])
def test_a_malformed_proxy_response_is_502(url, recorder, caplog, reply) -> None:
    recorder.reply = reply
    with caplog.at_level(logging.ERROR, logger="amends_local.gateway"):
        response = requests.get(f"{url}/process", timeout=10)
    assert response.status_code == 502
    _problem(response)
    assert "malformed Lambda proxy response" in caplog.text


def test_a_body_over_10_mb_is_413_and_never_reaches_the_handler(url, recorder) -> None:
    response = requests.post(f"{url}/complaints", data=b"x" * (MAX_PAYLOAD_BYTES + 1), timeout=30,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["x-amzn-ErrorType"] == "RequestTooLargeException"
    assert recorder.calls == []
    assert requests.post(f"{url}/complaints", data=b"x" * MAX_PAYLOAD_BYTES, timeout=30).status_code == 200


# ---- the template's own gateway responses, as deployed ------------------------------------------------------

def test_413_is_valid_problem_json(url) -> None:
    response = requests.post(f"{url}/complaints", data=b"x" * (MAX_PAYLOAD_BYTES + 1), timeout=30)
    problem = _problem(response)
    assert problem["status"] == 413


def test_every_gateway_response_of_the_template_renders_as_problem_json(real_template) -> None:
    responses = GatewayResponses(real_template.gateway_responses())
    for response_type in DEFAULT_STATUS:
        rendered = responses.render(response_type, "Some \"quoted\" message", "req-1", status=None
                                    if DEFAULT_STATUS[response_type] else 400 if response_type == "DEFAULT_4XX" else 502)
        problem = json.loads(rendered.body)
        assert problem.get("status", rendered.status) == rendered.status, response_type
        assert problem["detail"] and problem["title"] and problem["request_id"] == "req-1", response_type
        assert dict(rendered.headers)["Content-Type"] == "application/problem+json", response_type


@pytest.mark.parametrize(("response_type", "status"), [
    ("WAF_FILTERED", 403), ("RESOURCE_NOT_FOUND", 404), ("INVALID_API_KEY", 403), ("INVALID_SIGNATURE", 403),
    ("API_CONFIGURATION_ERROR", 500), ("AUTHORIZER_FAILURE", 500), ("INTEGRATION_FAILURE", 504),
])
def test_types_left_to_the_defaults_keep_api_gateways_own_status(real_template, response_type, status) -> None:
    rendered = GatewayResponses(real_template.gateway_responses()).render(response_type, "refused", "req-1")
    assert rendered.status == status
    assert "status" not in json.loads(rendered.body)  # the body cannot know it, so it does not claim one


def test_the_defaults_set_no_status_code_of_their_own(real_template) -> None:
    own = {r.response_type: r for r in real_template.gateway_responses()}
    assert own["DEFAULT_4XX"].status_code is None and own["DEFAULT_5XX"].status_code is None


def test_a_body_that_claims_a_status_only_does_so_with_a_status_code_set(real_template) -> None:
    for spec in real_template.gateway_responses():
        if '"status":' in (spec.template or ""):
            assert spec.status_code is not None and f'"status":{spec.status_code},' in spec.template, spec


def test_a_5xx_problem_claims_no_status_but_api_gateways_own(url, recorder) -> None:
    recorder.reply = RuntimeError("boom")
    response = requests.get(f"{url}/process", timeout=10)
    assert response.status_code == 502  # a failed Lambda proxy integration, as on AWS
    assert _problem(response).get("status", 502) == 502


# ---- the rendering rules themselves ------------------------------------------------------------------------
class Spec:
    def __init__(self, response_type, status_code, template, headers=None):
        self.response_type, self.status_code, self.template = response_type, status_code, template
        self.headers = headers or {"Content-Type": "'application/problem+json'"}


class Asking:
    query = "lang=cy&lang=en"

    def header(self, name: str) -> str | None:
        return {"origin": "https://app.example"}.get(name.lower())


def test_context_variables_are_substituted_and_message_string_is_a_json_string() -> None:
    template = ('{"detail":$context.error.messageString,"raw":"$context.error.message",'
                '"type":"$context.error.responseType","id":"$context.requestId"}')
    rendered = GatewayResponses([Spec("DEFAULT_4XX", None, template)]).render("REQUEST_TOO_LARGE", 'Too "long"',
                                                                               "req-1")
    assert rendered.status == 413
    assert rendered.body.startswith(b'{"detail":"Too \\"long\\"","raw":"Too "long"",')  # message: not escaped
    quiet = GatewayResponses([Spec("DEFAULT_4XX", None, template)]).render("REQUEST_TOO_LARGE", "Too long", "req-1")
    assert json.loads(quiet.body) == {"detail": "Too long", "raw": "Too long", "type": "REQUEST_TOO_LARGE",
                                      "id": "req-1"}


def test_header_values_are_mapping_expressions_evaluated_per_request() -> None:
    headers = {"Content-Type": "'application/problem+json'", "Access-Control-Allow-Origin": "method.request.header.Origin",
               "X-Lang": "method.request.querystring.lang", "X-Request": "context.requestId",
               "X-Absent": "method.request.header.X-Not-Sent"}
    responses = GatewayResponses([Spec("UNAUTHORIZED", 401, "{}", headers)])
    rendered = dict(responses.render("UNAUTHORIZED", "Unauthorized", "req-1", request=Asking()).headers)
    assert rendered == {"Content-Type": "application/problem+json", "Access-Control-Allow-Origin": "https://app.example",
                        "X-Lang": "en", "X-Request": "req-1"}  # a value the request lacks leaves the header out


@pytest.mark.parametrize("expression", ["stageVariables.origin", "method.request.path.reference", "application/json",
                                        "integration.response.header.Origin"])
def test_a_mapping_the_gateway_cannot_evaluate_is_refused_at_startup(expression) -> None:
    with pytest.raises(ValueError, match="not emulated"):
        GatewayResponses([Spec("UNAUTHORIZED", 401, "{}", {"X-Thing": expression})])


def test_an_unknown_response_type_is_refused_at_startup() -> None:
    with pytest.raises(ValueError, match="not an API Gateway response type"):
        GatewayResponses([Spec("UNAUTHORISED", 401, "{}")])


def test_a_default_responses_status_code_applies_to_the_types_falling_back_to_it() -> None:
    responses = GatewayResponses([Spec("DEFAULT_5XX", 503, '{"status":503}')])
    assert responses.render("DEFAULT_5XX", "Internal server error", "r", status=502).status == 503
    assert responses.render("INTEGRATION_TIMEOUT", "Timeout", "r").status == 503


def test_without_any_definition_api_gateways_builtin_message_is_sent() -> None:
    rendered = GatewayResponses([]).render("UNAUTHORIZED", "Unauthorized", "r")
    assert (rendered.status, json.loads(rendered.body)) == (401, {"message": "Unauthorized"})


def test_separate_gateway_response_resources_are_not_served(start_gateway, stub_template, caplog) -> None:
    stub_template.detached = ["NotFound"]
    with caplog.at_level(logging.WARNING, logger="amends_local.gateway"):
        start_gateway(stub_template)
    assert "NotFound (AWS::ApiGateway::GatewayResponse) is not served" in caplog.text


def test_a_route_with_an_authorizer_that_is_not_cognito_is_refused(start_gateway, stub_template) -> None:
    stub_template.routes.append(Route("Fn", "GET", "/iam", "AWS_IAM"))
    with pytest.raises(ValueError, match="AWS_IAM"):
        start_gateway(stub_template)
