"""problems.install: JSON bodies only, every other content type a 415 problem (never Powertools' form parsing)."""

from __future__ import annotations

import json
from typing import Annotated

import pytest
from amends.api import problems
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel


class Note(BaseModel):
    body: str


app = APIGatewayRestResolver(enable_validation=True, response_validation_error_http_code=500)
problems.install(app)


@app.post("/notes")
def add(note: Annotated[Note, Body()]) -> Note:
    return note


def _post(body: str, content_type: str | None) -> dict:
    headers = {"content-type": content_type} if content_type is not None else {}
    event = {"resource": "/notes", "path": "/notes", "httpMethod": "POST", "headers": headers,
             "multiValueHeaders": {k: [v] for k, v in headers.items()}, "body": body, "isBase64Encoded": False,
             "requestContext": {"stage": "test", "requestId": "r", "path": "/notes"}, "queryStringParameters": None,
             "multiValueQueryStringParameters": None, "pathParameters": None}
    return app.resolve(event, None)


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", None])
def test_json_is_read(content_type) -> None:
    assert _post('{"body": "hi"}', content_type)["statusCode"] == 200


@pytest.mark.parametrize(("content_type", "body"), [
    ("multipart/form-data", '{"body": "hi"}'),  # no boundary: Powertools raised a bare ValueError (a 500)
    ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="body"\r\n\r\nhi\r\n--x--\r\n'),
    ("application/x-www-form-urlencoded", "body=hi"),  # Powertools would have accepted it
    ("text/plain", "hi"),
])
def test_any_other_content_type_is_415_problem_json(content_type, body) -> None:
    response = _post(body, content_type)
    assert response["statusCode"] == 415
    assert response["multiValueHeaders"]["Content-Type"] == ["application/problem+json"]
    assert json.loads(response["body"])["type"].endswith("/unsupported-media-type")
