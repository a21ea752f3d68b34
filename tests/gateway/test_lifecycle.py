"""Start, serve, stop: port 0, loopback only, idempotent stop that ends its threads even with open connections."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from amends_local.gateway import Gateway


def test_port_zero_picks_a_free_loopback_port(gateway) -> None:
    assert gateway.url.startswith("http://127.0.0.1:")
    assert int(gateway.url.rsplit(":", 1)[1]) > 0


def gateway_thread(thread: threading.Thread) -> bool:
    return thread.name.startswith(("gateway:", "api:")) or "process_request_thread" in thread.name


def test_stop_is_idempotent_and_ends_every_thread(stub_template, recorder, clock, tmp_path) -> None:
    before = set(threading.enumerate())
    gateway = Gateway(template=stub_template, invoke=recorder, clock=clock, port=0, state_dir=tmp_path)
    gateway.start()
    url = gateway.url
    session = requests.Session()  # keeps its connection open: stop must not wait for the client to leave
    assert session.get(f"{url}/process", timeout=10).status_code == 200

    started = time.monotonic()
    gateway.stop()
    gateway.stop()
    assert time.monotonic() - started < 5
    # The gateway's own threads (its server's, its requests', its integrations'); a stack an earlier suite started
    # runs pollers of its own in this process meanwhile.
    assert {t.name for t in set(threading.enumerate()) - before if gateway_thread(t)} == set()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/process", timeout=2)
    with pytest.raises(RuntimeError):
        _ = gateway.url
    session.close()


def test_only_loopback(stub_template, recorder, clock, tmp_path) -> None:
    with pytest.raises(ValueError, match="loopback"):
        Gateway(template=stub_template, invoke=recorder, clock=clock, host="0.0.0.0", port=0, state_dir=tmp_path)


def test_the_real_template_object_works_as_is(start_gateway, real_template, recorder) -> None:
    """The colleague's Template (no stub): routes, stage and gateway responses straight from template.yaml."""
    url = start_gateway(real_template).url
    assert requests.get(f"{url}/staff/cases", timeout=10).status_code == 401
    assert requests.get(f"{url}/process", timeout=10).status_code == 200
    assert recorder.last[1]["requestContext"]["stage"] == "dev"
