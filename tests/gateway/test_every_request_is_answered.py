"""Every method and every malformed request gets problem+json from the gateway, never http.server's HTML pages."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest
import requests


def _raw(url: str, data: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send ``data`` as is and read the whole answer (the gateway closes the connection after a refusal)."""
    target = urlsplit(url)
    with socket.create_connection((target.hostname, target.port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return status_line, headers, body


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "FOO", "CONNECT"])
def test_a_method_no_route_has_is_the_templates_404(url, recorder, method) -> None:
    response = requests.request(method, f"{url}/complaints", timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "No such endpoint"
    assert recorder.calls == []


def test_any_covers_only_the_methods_api_gateway_means_by_it(url, recorder) -> None:
    assert requests.request("PATCH", f"{url}/files/a/b", timeout=10).status_code == 200
    assert requests.request("PROPFIND", f"{url}/files/a/b", timeout=10).status_code == 404
    assert [function_id for function_id, _ in recorder.calls] == ["Files"]


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"GET /process\r\n\r\n", 400),  # HTTP/0.9
    (b"GET\r\n\r\n", 400),  # no target
    (b"GET /process HTTP/1.1 extra\r\n\r\n", 400),
    (b"GET /process HTTP/9.9\r\nHost: x\r\n\r\n", 505),
    (b"GET /process HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"POST /complaints HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n", 400),
])
def test_a_request_http_cannot_read_gets_problem_json(url, recorder, request_bytes, status) -> None:
    status_line, headers, body = _raw(url, request_bytes)
    assert status_line.startswith(f"HTTP/1.1 {status} "), status_line
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    problem = json.loads(body)
    assert problem["title"] == ("Request not accepted" if status < 500 else "Service unavailable")
    assert problem["detail"] and "<html" not in body.decode().lower()
    assert recorder.calls == []
