"""What the handler receives: the REST API proxy event (payload format 1.0), and what the client gets back."""

from __future__ import annotations

import base64
import http.client
import json
import uuid

import pytest
import requests

from tests.gateway.conftest import START


def test_a_request_becomes_the_proxy_event_api_gateway_sends(url, recorder) -> None:
    response = requests.post(
        f"{url}/complaints/CMP-2026-7K3F9Q/messages?a=1&a=2&q=x%20y&empty=",
        json={"body": "more"}, headers={"X-Access-Token": "secret", "X-Multi": "one"}, timeout=10,
    )
    assert response.status_code == 200

    function_id, event = recorder.last
    assert function_id == "PublicApiFunction"
    assert event["resource"] == "/complaints/{reference}/messages"
    assert event["path"] == "/complaints/CMP-2026-7K3F9Q/messages"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"reference": "CMP-2026-7K3F9Q"}
    assert event["queryStringParameters"] == {"a": "2", "q": "x y", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "q": ["x y"], "empty": [""]}
    assert event["stageVariables"] is None
    assert event["headers"]["X-Access-Token"] == "secret"
    assert event["multiValueHeaders"]["X-Access-Token"] == ["secret"]
    assert event["headers"]["Content-Type"] == "application/json"
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert event["headers"]["Host"] == url.removeprefix("http://")
    assert json.loads(event["body"]) == {"body": "more"}
    assert event["isBase64Encoded"] is False

    context = event["requestContext"]
    assert context["resourcePath"] == "/complaints/{reference}/messages"
    assert context["httpMethod"] == "POST"
    assert context["path"] == "/dev/complaints/CMP-2026-7K3F9Q/messages"
    assert context["stage"] == "dev"
    assert context["requestTimeEpoch"] == int(START.timestamp() * 1000)
    assert context["requestTime"] == "23/Nov/2026:09:30:00 +0000"
    assert uuid.UUID(context["requestId"])
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["accountId"] == "123456789012" and context["apiId"]
    assert context["protocol"] == "HTTP/1.1" and context["domainName"] == "127.0.0.1"
    assert "authorizer" not in context  # a public route: no authorizer ran
    assert response.headers["x-amzn-RequestId"] == context["requestId"]


def test_absent_parts_are_null_not_empty(url, recorder) -> None:
    requests.get(f"{url}/process", timeout=10)
    _, event = recorder.last
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False


def test_repeated_headers_keep_every_value(url, recorder) -> None:
    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=10)  # requests cannot repeat one
    connection.putrequest("GET", "/process")
    connection.putheader("X-Multi", "one")
    connection.putheader("X-Multi", "two")
    connection.endheaders()
    assert connection.getresponse().status == 200
    connection.close()
    _, event = recorder.last
    assert event["multiValueHeaders"]["X-Multi"] == ["one", "two"]
    assert event["headers"]["X-Multi"] == "two"


def test_a_binary_body_stays_text_when_the_api_declares_no_binary_media_types(url, recorder) -> None:
    """template.yaml has no BinaryMediaTypes, so API Gateway passes every payload on as UTF-8 text."""
    requests.post(f"{url}/complaints", data="naïve".encode(), headers={"Content-Type": "application/pdf"},
                  timeout=10)
    _, event = recorder.last
    assert event["body"] == "naïve" and event["isBase64Encoded"] is False


def test_binary_media_types_are_base64_both_ways(start_gateway, stub_template, recorder) -> None:
    stub_template.raw["Resources"]["AmendsApi"]["Properties"]["BinaryMediaTypes"] = ["image~1png"]
    url = start_gateway(stub_template).url
    png = bytes(range(256))
    recorder.reply = {"statusCode": 200, "headers": {"Content-Type": "image/png"},
                      "body": base64.b64encode(png).decode(), "isBase64Encoded": True}

    response = requests.post(f"{url}/complaints", data=png, timeout=10,
                             headers={"Content-Type": "image/png", "Accept": "image/png"})

    _, event = recorder.last
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == png
    assert response.content == png


@pytest.mark.parametrize(("path", "function_id", "parameters"), [
    ("/things/special", "SpecialThing", None),
    ("/things/other", "AnyThing", {"id": "other"}),
    ("/things/special/parts/special", "ThingPart", {"id": "special"}),
    ("/files/a/b/c.txt", "Files", {"path": "a/b/c.txt"}),
    ("/complaints/CMP-2026-7K3F9Q", "PublicApiFunction", {"reference": "CMP-2026-7K3F9Q"}),
])
def test_literal_segments_beat_parameters(url, recorder, path, function_id, parameters) -> None:
    assert requests.get(f"{url}{path}", timeout=10).status_code == 200
    called, event = recorder.last
    assert (called, event["pathParameters"]) == (function_id, parameters)


def test_path_parameters_stay_percent_encoded_as_on_a_rest_api(url, recorder) -> None:
    requests.get(f"{url}/things/a%2Fb%20c", timeout=10)
    _, event = recorder.last
    assert event["pathParameters"] == {"id": "a%2Fb%20c"}
    assert event["path"] == "/things/a%2Fb%20c"


def test_the_handlers_answer_is_copied(url, recorder) -> None:
    recorder.reply = {
        "statusCode": 201,
        "headers": {"Location": "/complaints/X", "Content-Type": "application/json", "X-Both": "single"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Both": ["multi"]},
        "body": '{"reference": "X"}',
        "isBase64Encoded": False,
    }
    response = requests.post(f"{url}/complaints", json={}, timeout=10)
    assert response.status_code == 201
    assert response.json() == {"reference": "X"}
    assert response.headers["Location"] == "/complaints/X"
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.raw.headers.getlist("X-Both") == ["multi"]  # multiValueHeaders wins a name in both


def test_a_response_without_content_type_is_application_json(url, recorder) -> None:
    recorder.reply = {"statusCode": 204, "body": ""}
    response = requests.delete(f"{url}/files/x", timeout=10)
    assert response.status_code == 204
    assert response.headers["Content-Type"] == "application/json"
