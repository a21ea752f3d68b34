"""moto, served over HTTP on 127.0.0.1 from this process, with Lambda invocations routed to our handlers.

Configuration: ``stepfunctions.execute_state_machine`` runs state machines with moto's ASL interpreter (the
one LocalStack wrote), which calls Lambda at ``localhost:$MOTO_PORT``; ``lambda.use_docker`` False selects
moto's docker-free Lambda backend, whose ``invoke`` would answer with a canned reply.
``LambdaSimpleBackend.invoke`` is therefore replaced, narrowly, by one that calls what the stack registered for
the function name (``FunctionRegistry.invoke``: the function's own execution environments):

* success → the handler's result as JSON (what Lambda returns);
* function error → header ``X-Amz-Function-Error: Unhandled`` and Lambda's error payload
  ``{"errorType": <exception class name>, "errorMessage": ..., "stackTrace": [...]}``. moto's interpreter
  reads ``errorType`` as the state's error name (state_task_lambda.py / state_task_service_lambda.py), so ASL
  ``Retry``/``Catch`` on ``["ActionNotAllowed"]`` behave as in AWS.

moto keeps its state in module globals, so one server per process is the honest model: ``acquire()`` starts it
(or shares the running one) and ``release()`` stops it, and resets moto's state, when the last user is done.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import requests

from amends_local.environments import error_payload
from amends_local.ports import LOOPBACK

log = logging.getLogger(__name__)

Handler = Callable[[Any], Any]  # event → result; raises on function error

_lock = threading.Lock()
_handlers: dict[str, list[Handler]] = {}  # function name → invokers (one per stack); the latest registered serves
_server: Any = None
_users = 0
_original_invoke: Any = None


def acquire() -> str:
    """Start the shared moto server if it is not running; returns its endpoint URL."""
    global _server, _users
    with _lock:
        if _server is None:
            _configure_moto()
            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(
                logging.WARNING
            )  # one line per request drowns the handlers' logs
            server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
            server.start()
            _server = server
            os.environ["MOTO_PORT"] = str(server.get_host_and_port()[1])
            # Load moto's services now, while DynamoDB Local starts.
            threading.Thread(target=_warm_up, args=(endpoint(),), name="moto-warm-up", daemon=True).start()
        _users += 1
        return endpoint()


def endpoint() -> str:
    assert _server is not None, "moto server not started"
    host, port = _server.get_host_and_port()
    return f"http://{host}:{port}"


def release() -> None:
    """One user is done; the last one resets moto's state and stops the server."""
    global _server, _users
    with _lock:
        if _server is None:
            return
        _users -= 1
        if _users > 0:
            return
        server, _server = _server, None
        try:
            requests.post(f"http://{LOOPBACK}:{server.get_host_and_port()[1]}/moto-api/reset", timeout=10)
        finally:
            server.stop()
            os.environ.pop("MOTO_PORT", None)


def register_function(name: str, handler: Handler) -> None:
    with _lock:
        _handlers.setdefault(name, []).append(handler)


def unregister_function(name: str, handler: Handler) -> None:
    """Remove this registration only (another stack in the process may serve the same name)."""
    with _lock:
        registered = _handlers.get(name, [])
        if handler in registered:
            registered.remove(handler)
        if not registered:
            _handlers.pop(name, None)


def _warm_up(url: str) -> None:
    """moto loads a service on its first request (Step Functions' takes seconds): load them now."""
    from amends_local.aws import client

    calls = {
        "stepfunctions": "list_state_machines",
        "sqs": "list_queues",
        "events": "list_event_buses",
        "lambda": "list_functions",
        "iam": "list_roles",
        "logs": "describe_log_groups",
        "sns": "list_topics",
        "cloudwatch": "describe_alarms",
        "ses": "list_identities",
    }
    for service, call in calls.items():
        getattr(client(service, url), call)()


def _configure_moto() -> None:
    from moto.core.config import default_user_config

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    default_user_config.setdefault("lambda", {})["use_docker"] = False
    _route_lambda_invocations()


def _route_lambda_invocations() -> None:
    global _original_invoke
    from moto.awslambda_simple.models import LambdaSimpleBackend

    if _original_invoke is not None:
        return
    _original_invoke = LambdaSimpleBackend.invoke

    def invoke(
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        name = function_name.split(":function:", 1)[-1].split(":", 1)[0]  # name, ARN or partial ARN
        self.get_function(name, qualifier)  # a missing function is moto's 404, as in AWS
        handler = (_handlers.get(name) or [None])[-1]
        event = json.loads(body) if body else {}
        if handler is None:
            response_headers["x-amz-function-error"] = "Unhandled"
            return _error_payload(
                {"errorType": "LocalRuntimeError", "errorMessage": f"No handler is loaded for function {name}"}
            )
        try:
            result = handler(event)
        except Exception as error:  # noqa: BLE001 - Lambda turns any handler exception into a function error
            payload = error_payload(error)
            log.warning("function %s raised %s: %s", name, payload["errorType"], payload["errorMessage"])
            response_headers["x-amz-function-error"] = "Unhandled"
            return _error_payload(payload)
        if headers.get("X-Amz-Invocation-Type") == "Event":
            return b""
        return json.dumps(result).encode()

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]


def _error_payload(payload: dict[str, Any]) -> bytes:
    return json.dumps({"stackTrace": [], **payload, "requestId": ""}).encode()
