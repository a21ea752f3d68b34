"""The local gateway's HTTP side: plain requests and replies, and the server that reads and writes them.

A ``Request`` is what API Gateway reads from the wire (the body within its 10 MB limit); a ``Reply`` is what it
writes. The server (``ThreadingHTTPServer``, a thread per connection, HTTP/1.1 keep-alive) hands each request to
its ``Gateway`` and nothing else: http.server's own refusals (a malformed request line, HTTP/0.9, oversized
headers) go through the gateway too, so every answer is the API's problem+json, never an HTML error page. A body
over API Gateway's limit is drained (up to a sane bound) so the client can read the 413.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

logger = logging.getLogger("amends_local.gateway")

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's hard limit for a REST API request
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024  # bigger oversized bodies are not read at all: the connection is dropped


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as sent, still percent-encoded (API Gateway hands REST integrations the raw path)
    query: str
    headers: list[tuple[str, str]]  # in order, repeated names kept
    body: bytes
    source_ip: str
    server_port: int

    def header(self, name: str) -> str | None:
        """The last value of a header, its name matched case-insensitively."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[-1] if values else None


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    close: bool = False  # drop the connection afterwards (the request body was not read)


class Answers(Protocol):
    """What the server asks of the gateway."""

    def handle(self, request: Request) -> Reply: ...
    def too_large(self, request: Request) -> Reply: ...
    def refused(self, status: int, message: str, request: Request | None = None) -> Reply: ...


class _TooLarge(Exception):
    pass


class _BadRequest(Exception):
    pass


class Server(ThreadingHTTPServer):
    """A threading HTTP server whose stop ends idle keep-alive connections, so its threads can be joined."""

    daemon_threads = False
    block_on_close = True
    # socketserver's listen backlog is 5: a burst of clients (20 retries of one request at once) found it full and
    # got connection resets, which API Gateway never gives. Throttling answers 429; the socket takes them all.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], gateway: Answers) -> None:
        self.gateway = gateway
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def end_idle_connections(self) -> None:
        """Close the reading side: idle connections see end-of-file; a request in progress still gets its answer."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RD)
            except OSError:  # already closed by the client
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "amends-local-gateway"
    timeout = 120  # an idle client cannot hold a thread forever
    server: Server

    def _serve(self) -> None:
        started = time.monotonic()
        gateway = self.server.gateway
        target = urlsplit(self.path)
        request = Request(method=self.command, path=target.path or "/", query=target.query,
                          headers=list(self.headers.items()), body=b"", source_ip=self.client_address[0],
                          server_port=self.server.server_address[1])
        try:
            body = self._read_body()
        except _TooLarge:
            reply = gateway.too_large(request)
        except _BadRequest as bad:
            reply = gateway.refused(400, str(bad), request)
        else:
            reply = gateway.handle(dataclasses.replace(request, body=body))
        self._write(reply)
        logger.info("%s %s → %d (%d ms)", self.command, self.path, reply.status,
                    (time.monotonic() - started) * 1000)

    def __getattr__(self, name: str) -> Any:
        # http.server serves a method only if the handler has do_<METHOD>, and answers any other with an HTML 501.
        # API Gateway answers every method itself (no route has it: MISSING_AUTHENTICATION_TOKEN), so every
        # method goes to the gateway.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":  # a bare "GET /" line: API Gateway speaks HTTP/1.1 and HTTP/2
            self.send_error(400, "HTTP/0.9 requests are not accepted: send an HTTP/1.1 request")
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line, HTTP/0.9, a bad version, oversized or malformed
        headers) as problem+json through the Api's gateway responses, never its HTML error page."""
        if self.request_version in ("HTTP/0.9", ""):
            self.request_version = "HTTP/1.1"  # else http.server writes no status line and no headers
        try:
            detail = message or HTTPStatus(code).phrase
        except ValueError:
            detail = "The request could not be read"
        self._write(self.server.gateway.refused(code, detail))

    def _read_body(self) -> bytes:
        """The request body; :class:`_TooLarge` past API Gateway's limit, once the excess is drained.

        Draining (up to a sane bound) lets the client finish sending and read the 413, instead of seeing a reset.
        """
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise _BadRequest("Content-Length is not a number") from None
        if length > MAX_PAYLOAD_BYTES:
            if length <= DRAIN_LIMIT_BYTES:
                self._discard(length)
            raise _TooLarge
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        body, size_seen = bytearray(), 0
        while True:
            try:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            except ValueError:
                raise _BadRequest("malformed chunked body") from None
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                if size_seen > MAX_PAYLOAD_BYTES:
                    raise _TooLarge
                return bytes(body)
            size_seen += size
            if size_seen > DRAIN_LIMIT_BYTES:
                raise _TooLarge
            chunk = self.rfile.read(size)
            if size_seen <= MAX_PAYLOAD_BYTES:
                body += chunk
            self.rfile.readline()

    def _discard(self, length: int) -> None:
        while length > 0:
            read = len(self.rfile.read(min(length, 1 << 20)) or b"")
            if not read:
                return
            length -= read

    def _write(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if reply.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)
