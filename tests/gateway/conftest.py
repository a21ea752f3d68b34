"""A Gateway on a free port with the real template's gateway responses and Api settings, the real routes plus a
few made up to probe routing, a recorder in place of the handlers, and a clock the test moves."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from amends_local.auth import KEY_DIR, KEY_FILE, LocalIdentityProvider
from amends_local.gateway import Gateway
from amends_local.template import Template

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Route:
    function_id: str
    method: str
    path: str
    authorizer: str | None


EXTRA_ROUTES = [
    Route("SpecialThing", "GET", "/things/special", None),
    Route("AnyThing", "GET", "/things/{id}", None),
    Route("ThingPart", "GET", "/things/{id}/parts/special", None),
    Route("Files", "ANY", "/files/{path+}", None),
]


@dataclass
class StubTemplate:
    """The colleague's Template contract, fed from the real template.yaml (the gateway's responses as deployed)."""

    routes: list[Any]
    responses: list[Any]
    raw: dict[str, Any]
    stage: str = "dev"
    detached: list[str] = field(default_factory=list)

    def api_routes(self) -> list[Any]:
        return self.routes

    def detached_gateway_responses(self) -> list[str]:
        return self.detached

    def gateway_responses(self) -> list[Any]:
        return self.responses

    def api_stage(self) -> str:
        return self.stage


@dataclass
class FakeClock:
    at: datetime = START

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> datetime:
        if by < timedelta(0):
            raise ValueError("The runtime clock only moves forward")
        self.at += by
        return self.at


OK = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "multiValueHeaders": {},
      "body": '{"ok": true}', "isBase64Encoded": False}


@dataclass
class Recorder:
    """Stands in for the handlers: keeps every (function id, event) and answers ``reply`` (or raises it)."""

    reply: Any = field(default_factory=lambda: dict(OK))
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, function_id: str, event: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((function_id, copy.deepcopy(event)))
        if isinstance(self.reply, BaseException):
            raise self.reply
        return self.reply(event) if callable(self.reply) else self.reply

    @property
    def last(self) -> tuple[str, dict[str, Any]]:
        assert self.calls, "the handler was not invoked"
        return self.calls[-1]


@pytest.fixture(scope="session")
def real_template() -> Template:
    return Template(ROOT / "template.yaml")


@pytest.fixture
def stub_template(real_template) -> StubTemplate:
    return StubTemplate(list(real_template.api_routes()) + EXTRA_ROUTES, real_template.gateway_responses(),
                        copy.deepcopy(real_template.raw))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="session")
def pool_key(tmp_path_factory) -> bytes:
    """One RSA key for the session (making one takes a good part of a second)."""
    state_dir = tmp_path_factory.mktemp("pool")
    LocalIdentityProvider(state_dir)
    return (state_dir / KEY_DIR / KEY_FILE).read_bytes()


@pytest.fixture
def start_gateway(tmp_path, clock, recorder, pool_key) -> Iterator[Callable[..., Gateway]]:
    started: list[Gateway] = []
    (tmp_path / KEY_DIR).mkdir()
    (tmp_path / KEY_DIR / KEY_FILE).write_bytes(pool_key)

    def start(template: Any, **kwargs: Any) -> Gateway:
        gateway = Gateway(template=template, invoke=recorder, clock=clock, port=0, state_dir=tmp_path, **kwargs)
        gateway.start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@pytest.fixture
def gateway(start_gateway, stub_template) -> Gateway:
    return start_gateway(stub_template)


@pytest.fixture
def url(gateway) -> str:
    return gateway.url


@pytest.fixture
def sign(tmp_path) -> Callable[[dict[str, Any]], str]:
    """Sign arbitrary claims with the local pool's key, to forge tokens the issuer would never issue."""

    def sign(claims: dict[str, Any], key_file: Path = tmp_path / KEY_DIR / KEY_FILE) -> str:
        return jwt.encode(claims, key_file.read_bytes(), algorithm="RS256")

    return sign
