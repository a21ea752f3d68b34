"""Lambda's Python runtime, inside one execution environment (a worker process of ``environments.py``).

Started as ``python -m amends_local.bootstrap [--meter]`` in the function's code directory with exactly the
function's environment, it imports the handler named by ``_HANDLER`` once (the cold start), then serves
invocations one at a time (warm), as Lambda's runtime interface client does. It imports nothing of the local
runtime, so a handler sees only its own code, the layer and their dependencies.

The protocol is one JSON object per line:

* in, on stdin, per invocation: ``{"event", "context": {LambdaContext's fields}, "env": {...}}``; ``env`` is
  what changes between invocations (the runtime clock's offset), set in os.environ before the handler runs.
  EOF means the runtime stopped (or died): the process exits at once.
* out, on the process's original stdout: first ``{"ready": true}`` or ``{"error": ...}`` (the handler could not
  be imported), then one reply per invocation: ``{"result": ...}`` or ``{"error": ...}``, with ``"calls"`` when
  the runtime meters AWS calls (``--meter``: service, operation and DynamoDB's ConsumedCapacity of each).

With ``--iam=<socket>`` every AWS call the handler makes is first put to the runtime's IAM authorizer
(``amends_local.iam``), which answers as the function's role would be answered in AWS (see ``PermissionGuard``).

Errors are Lambda's payloads, ``{"errorType": exception class name, "errorMessage", "stackTrace"}``, and a
result that is not JSON is Lambda's ``Runtime.MarshalError``. File descriptor 1 is pointed at stderr before the
handler loads, so print() and Powertools' log lines (stdout) go to the function's log, as in Lambda.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import importlib
import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass
class LambdaContext:
    """What ``context`` offers a Python handler (the attributes Powertools and handlers read)."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    timeout_seconds: int
    _started: float = field(default_factory=time.monotonic, repr=False)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._started + self.timeout_seconds - time.monotonic()) * 1000))


class CallMeter:
    """Records the AWS calls the handler makes (refused ones too: they are billed), asking DynamoDB for the capacity
    each consumes. Installed in this process only, before the handler runs."""

    def __init__(self) -> None:
        import botocore.client

        self.calls: list[dict[str, Any]] = []
        make_api_call = botocore.client.BaseClient._make_api_call
        meter = self

        def metered(client: Any, operation: str, params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            shape = client.meta.service_model.operation_model(operation).input_shape
            if service == "dynamodb" and shape is not None and "ReturnConsumedCapacity" in shape.members:
                params = {**params, "ReturnConsumedCapacity": "TOTAL"}
            response: dict[str, Any] = {}
            try:
                response = make_api_call(client, operation, params)
                return response
            finally:
                consumed = response.get("ConsumedCapacity")
                meter.calls.append({"service": service, "operation": operation, "consumed": consumed})

        botocore.client.BaseClient._make_api_call = metered


class PermissionGuard:
    """Puts each AWS call to the runtime's IAM authorizer before botocore sends it, and fails a refused one as the
    service does: botocore raises its ClientError (code, message, HTTP status) as for any error response, so
    retries, X-Ray subsegments and the handler's ``except ClientError`` see what they would see in AWS. In warn
    mode the refusal is printed to the function's log and the call goes through.

    The hooks are botocore's own events, registered for every session the handler will create (added to
    botocore's built-in handlers before the handler is imported): ``before-parameter-build`` keeps the call's
    parameters as the handler gave them, ``before-call`` asks (and, refused, answers instead of the service).
    """

    def __init__(self, address: str) -> None:
        import botocore.handlers

        self._address = address
        self._lock = threading.Lock()  # a handler may call AWS from several threads; the socket is one conversation
        self._channel: Any = None
        botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build", self._keep_parameters))
        botocore.handlers.BUILTIN_HANDLERS.append(("before-call", self._authorize))

    @staticmethod
    def _keep_parameters(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["amends_iam_params"] = dict(params)

    def _authorize(self, model: Any, context: dict[str, Any], **_: Any) -> Any:
        call = {"function": os.environ["AWS_LAMBDA_FUNCTION_NAME"], "service": model.service_model.service_name,
                "operation": model.name, "params": context.get("amends_iam_params", {})}
        verdict = self._ask(json.dumps(call, default=_plain))
        for message in verdict.get("warn", []):
            print(f"[AMENDS_IAM=warn] AWS would refuse this call: {message}", file=sys.stderr, flush=True)
        if "deny" not in verdict:
            return None
        import botocore.awsrequest

        deny = verdict["deny"]
        request_id = str(uuid.uuid4())
        response = botocore.awsrequest.AWSResponse(
            url="", status_code=deny["status"], headers={"x-amzn-RequestId": request_id}, raw=None)
        return response, {"Error": {"Code": deny["code"], "Message": deny["message"]},
                          "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": deny["status"],
                                               "HTTPHeaders": {"x-amzn-requestid": request_id}, "RetryAttempts": 0}}

    def _ask(self, call: str) -> dict[str, Any]:
        with self._lock:
            if self._channel is None:
                connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                connection.connect(self._address)
                self._channel = connection.makefile("rwb")
            self._channel.write(call.encode() + b"\n")
            self._channel.flush()
            line = self._channel.readline()
        if not line:
            raise RuntimeError("the local runtime's IAM authorizer is gone (the stack is stopping)")
        return json.loads(line)


def _plain(value: Any) -> Any:
    """Parameters as JSON: bytes (a raw email, a binary attribute) in base64, times and numbers as text."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)  # Decimal, and file-like bodies (their content is not needed to authorize)


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in `make run` is the runtime's to handle, not ours
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdin.reconfigure(encoding="utf-8")  # type: ignore[attr-defined]
    for stream in (sys.stdout, sys.stderr):  # as on Lambda: UTF-8 whatever the host's locale, a line at a time
        stream.reconfigure(encoding="utf-8", errors="backslashreplace", line_buffering=True)  # type: ignore[attr-defined]
    _exit_with(os.getppid())
    meter = CallMeter() if "--meter" in sys.argv[1:] else None
    for argument in sys.argv[1:]:
        if argument.startswith("--iam="):
            PermissionGuard(argument.removeprefix("--iam="))
    handler, error = _load(os.environ["_HANDLER"])
    if handler is None:
        _send(channel, {"error": error})
        return 1
    _send(channel, {"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        os.environ.update(request["env"])
        if meter is not None:
            meter.calls.clear()
        context = LambdaContext(**request["context"], log_stream_name=os.environ["AWS_LAMBDA_LOG_STREAM_NAME"])
        reply = _invoke(handler, request["event"], context)
        if meter is not None:
            reply["calls"] = meter.calls
        _send(channel, reply)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # as Lambda ends an environment: no interpreter teardown to wait for


def _load(handler: str) -> tuple[Any, dict[str, Any] | None]:
    """The handler, or the error Lambda's runtime reports when it cannot load it (with the traceback, which helps
    locally)."""
    module_name, attribute = handler.rsplit(".", 1)
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        return None, _error(error, "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}")
    except SyntaxError as error:
        return None, _error(error, "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}")
    except Exception as error:  # noqa: BLE001 - any failure at import is the function's init error
        return None, _error(error)
    if not callable(getattr(module, attribute, None)):
        message = f"Handler '{attribute}' missing on module '{module_name}'"
        return None, {"errorType": "Runtime.HandlerNotFound", "errorMessage": message, "stackTrace": []}
    return getattr(module, attribute), None


def _invoke(handler: Any, event: Any, context: LambdaContext) -> dict[str, Any]:
    try:
        result = handler(event, context)
    except Exception as error:  # noqa: BLE001 - a function error, reported to the caller as Lambda reports it
        return {"error": _error(error)}
    try:
        json.dumps(result, default=_decimal)
    except (TypeError, ValueError) as error:
        return {"error": _error(error, "Runtime.MarshalError", f"Unable to marshal response: {error}")}
    return {"result": result}


def _error(error: BaseException, error_type: str | None = None, message: str | None = None) -> dict[str, Any]:
    frames = traceback.extract_tb(error.__traceback__)
    frames = [f for f in frames if f.filename != __file__]  # the handler's frames, not ours (Lambda does the same)
    return {
        "errorType": error_type or type(error).__name__,
        "errorMessage": str(error) if message is None else message,
        "stackTrace": traceback.format_list(frames),
    }


def _decimal(value: Any) -> Any:
    """Lambda's runtime writes a Decimal (what boto3 reads from DynamoDB) as a JSON number."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _send(channel: TextIO, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message, default=_decimal) + "\n")
    channel.flush()


def _exit_with(parent: int) -> None:
    """Exit when the runtime dies, even in the middle of a long invocation (EOF on stdin covers the idle case)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
