"""The project's Lambda functions, each run in execution environments of its own (``environments.py``).

A function's environment holds exactly what Lambda would give it: the variables the template sets (Globals and
its own, resolved by ``template.py``), the ones the Lambda service adds (``_HANDLER``, ``AWS_LAMBDA_FUNCTION_NAME``,
``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``, ``AWS_LAMBDA_LOG_GROUP_NAME``, region, credentials, ``TZ``...) and the
local endpoints (``AWS_ENDPOINT_URL_*``). Nothing is shared between functions, nor with this process: a variable
set for one function is invisible to the others, and each has its own module state and Powertools logger.

``start()`` starts one environment per function at once, and ``wait_ready()`` waits for their imports (which run
in parallel, meanwhile the stack provisions) and fails, naming the function, if a handler cannot be imported.
``invoke()`` runs one invocation in an idle environment of the
function, or a new one up to its concurrency (``ReservedConcurrentExecutions``, else ``DEFAULT_CONCURRENCY``); a
caller that finds them all busy waits at most the function's Timeout (or what it asks: the gateway asks for no
wait), then gets ``FunctionBusy``, Lambda's throttle. Events and results are held to Lambda's synchronous payload
limits (``limits.py``). Each invocation
carries the runtime clock's offset (``AMENDS_CLOCK_OFFSET_SECONDS``) into the environment, and is limited to the
function's Timeout. Function errors raise ``FunctionError`` (Lambda's errorType, errorMessage, stackTrace).

With ``iam_address`` (the stack's ``iam.Authorizer``) every AWS call a handler makes is authorized against the
function's template policy first.

Logs: a worker's stdout and stderr go to this process's stderr, or with ``log_dir`` to ``<log_dir>/<LogicalId>.log``
(one file per function, emptied at start). With ``meter_calls`` every environment records the AWS calls its
handler makes; they are collected, per function, in ``calls`` (``make bench`` reads them).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amends_local import limits, sent_mail
from amends_local.clock import RuntimeClock
from amends_local.environments import (
    STOP_GRACE,
    Environment,
    EnvironmentPool,
    FunctionBusy,
    FunctionError,
)
from amends_local.template import REGION, Function, Template

__all__ = ["DEFAULT_CONCURRENCY", "FunctionBusy", "FunctionError", "FunctionRegistry", "MeteredCall",
           "function_environment", "runtime_environment"]

WARM_AT_ONCE = 4  # cold starts warm() runs at the same time
DEFAULT_CONCURRENCY = 10  # environments per function without ReservedConcurrentExecutions (AWS: the account's 1,000)

# Variables Lambda's Python runtime has that a template does not set (AWS's values).
LAMBDA_DEFAULTS = {"PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin", "LANG": "en_US.UTF-8", "TZ": ":UTC"}


@dataclass(frozen=True)
class MeteredCall:
    """One AWS call a handler made (``meter_calls``): DynamoDB's ConsumedCapacity as returned, if any."""

    function: str
    service: str
    operation: str
    consumed: Any


class FunctionRegistry:
    def __init__(self, template: Template, *, root: Path | None = None, clock: RuntimeClock | None = None,
                 log_dir: Path | None = None, meter_calls: bool = False, mail_dir: Path | None = None) -> None:
        self.template = template
        self.mail_dir = mail_dir  # where handlers keep a copy of each email they send (amends_local.sent_mail)
        self.root = root or template.root
        self.functions: dict[str, Function] = template.functions()
        self.clock = clock
        self.log_dir = log_dir
        self.meter_calls = meter_calls
        self.iam_address: str | None = None  # set by the stack: new environments have their AWS calls authorized
        self.calls: list[MeteredCall] = []
        self._calls_lock = threading.Lock()
        self._pools: dict[str, EnvironmentPool] = {}
        self._starting: list[tuple[EnvironmentPool, Environment]] = []
        self._runtime: dict[str, str] = {}
        self._by_name = {fn.name: fn.logical_id for fn in self.functions.values()}

    # ---- lifecycle -----------------------------------------------------------------------------------------
    def start(self, *, dynamodb_endpoint: str, moto_endpoint: str) -> None:
        """Start one environment per function; their imports run in parallel, meanwhile (``wait_ready``)."""
        self._runtime = runtime_environment(dynamodb_endpoint=dynamodb_endpoint, moto_endpoint=moto_endpoint)
        if self.mail_dir is not None:
            self._runtime[sent_mail.ENV_VAR] = str(self.mail_dir)
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            for logical_id in self.functions:
                self.log_file(logical_id).write_bytes(b"")  # type: ignore[union-attr]
        for fn in self.functions.values():
            limit = DEFAULT_CONCURRENCY if fn.reserved_concurrency is None else fn.reserved_concurrency
            self._pools[fn.logical_id] = EnvironmentPool(
                fn.logical_id, lambda fn=fn: self._new_environment(fn), limit=limit, wait=fn.timeout
            )
        self._starting = [(pool, pool.start_one()) for pool in self._pools.values() if pool.limit > 0]

    def wait_ready(self) -> None:
        """Wait until every function's first environment has imported its handler; if one could not, stop all and
        raise, naming the functions and the errors."""
        starting, self._starting = self._starting, []
        failures = []
        for pool, environment in starting:
            try:
                environment.wait_ready()
            except FunctionError as error:
                failures.append(f"{pool.name}: {error.error_type}: {error.message}\n{''.join(error.stack_trace)}")
            finally:
                pool.put(environment)
        if failures:
            self.stop()
            raise RuntimeError("Handlers that could not be loaded:\n" + "\n".join(failures))

    def stop(self) -> None:
        """End every worker: EOF first (each finishes its invocation), then a kill after a short grace."""
        closed = [pool.close() for pool in self._pools.values()]
        self._pools = {}
        deadline = time.monotonic() + STOP_GRACE
        for idle, busy in closed:
            for environment in idle + busy:
                environment.end(deadline - time.monotonic())
        starting, self._starting = [e for _, e in self._starting], []  # started, never waited for: ours too
        for environment in [e for idle, _ in closed for e in idle] + starting:
            environment.release()

    def _new_environment(self, fn: Function) -> Environment:
        return Environment(
            name=fn.logical_id,
            environment=self.environment_of(fn.logical_id),
            code_dir=self.root / fn.code_uri,
            timeout=fn.timeout,
            log_file=self.log_file(fn.logical_id),
            meter=self.meter_calls,
            iam=self.iam_address,
        )

    def environment_of(self, logical_id: str) -> dict[str, str]:
        """The environment a new execution environment of this function starts with (each gets its log stream)."""
        fn = self._function(logical_id)
        stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        return function_environment(fn, code_dir=self.root / fn.code_uri, log_stream=stream,
                                    runtime=self._runtime)

    def log_file(self, logical_id: str) -> Path | None:
        return self.log_dir / f"{logical_id}.log" if self.log_dir is not None else None

    def environment_count(self, logical_id: str) -> int:
        """How many execution environments the function has now (idle or busy)."""
        return self._pools[logical_id].size

    # ---- invoking ------------------------------------------------------------------------------------------
    def logical_id_for(self, name_or_arn: str) -> str:
        """A function's logical id from its logical id, local name or ARN."""
        if name_or_arn in self.functions:
            return name_or_arn
        name = name_or_arn.split(":function:", 1)[-1].split(":", 1)[0]
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"No function {name_or_arn!r} in the template") from None

    def invoke(self, logical_id: str, event: Any, *, wait: float | None = None) -> Any:
        """Run one synchronous invocation as Lambda would; the result as JSON gives it back, or FunctionError.

        Raises RequestTooLarge for an event over Lambda's 6 MB (the function does not run), FunctionError with
        ``Function.ResponseSizeTooLarge`` for a result over it, and FunctionBusy (Lambda's throttle) when every
        environment the function may have stays busy longer than ``wait`` seconds: by default its Timeout, as
        event sources and asynchronous invocations retry a throttle; 0 for a caller Lambda throttles at once.
        """
        fn = self._function(self.logical_id_for(logical_id))
        pool = self._pools.get(fn.logical_id)
        if pool is None:
            raise FunctionBusy(f"{fn.logical_id}: the local runtime is not running (start() first)")
        limits.check_request(event)
        request = {"event": event, "context": self.context(fn), "env": self.clock.environment() if self.clock else {}}
        with pool.environment(wait) as environment:
            reply = environment.invoke(request)
        if self.meter_calls:
            with self._calls_lock:
                self.calls += [MeteredCall(fn.logical_id, c["service"], c["operation"], c["consumed"])
                               for c in reply.get("calls", [])]
        if "error" in reply:
            raise FunctionError(reply["error"])
        too_large = limits.response_too_large(reply["result"])
        if too_large is not None:
            raise FunctionError(too_large)
        return reply["result"]

    def warm(self, logical_id: str, count: int, events: Sequence[Any] = ()) -> None:
        """Have ``count`` execution environments of the function initialised, as provisioned concurrency has them,
        each taken once through ``events`` (a first request's lazy work: validators, clients). A few start at a time
        and the events run in one environment after the other, so that none races the others for the machine's CPU."""
        fn = self._function(self.logical_id_for(logical_id))
        pool = self._pools[fn.logical_id]
        holding = threading.Lock()

        def hold(stack: ExitStack) -> Environment:
            lease = pool.environment()
            environment = lease.__enter__()
            with holding:
                stack.push(lease.__exit__)
            return environment

        with ExitStack() as held:
            with ThreadPoolExecutor(min(count, WARM_AT_ONCE)) as starting:
                environments = list(starting.map(lambda _: hold(held), range(count)))
            for environment in environments:
                for event in events:
                    request = {"event": event, "context": self.context(fn),
                               "env": self.clock.environment() if self.clock else {}}
                    if "error" in (reply := environment.invoke(request)):
                        raise FunctionError(reply["error"])

    def context(self, fn: Function) -> dict[str, Any]:
        """LambdaContext's fields for one invocation (the worker builds the object)."""
        return {
            "function_name": fn.name,
            "function_version": "$LATEST",
            "invoked_function_arn": fn.arn,
            "memory_limit_in_mb": fn.memory_size,
            "aws_request_id": str(uuid.uuid4()),
            "log_group_name": f"/aws/lambda/{fn.name}",
            "timeout_seconds": fn.timeout,  # log_stream_name is the environment's: the worker adds it
        }

    def _function(self, logical_id: str) -> Function:
        try:
            return self.functions[logical_id]
        except KeyError:
            raise KeyError(f"No function {logical_id!r} in the template") from None


def function_environment(fn: Function, *, code_dir: Path, log_stream: str, runtime: dict[str, str]) -> dict[str, str]:
    """Exactly what one execution environment of ``fn`` has in os.environ, as in Lambda: the template's variables,
    then Lambda's reserved ones (which a template cannot override) and the local runtime's (``runtime_environment``).
    """
    return {
        **LAMBDA_DEFAULTS,
        **fn.environment,
        "_HANDLER": fn.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": fn.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "LAMBDA_TASK_ROOT": str(code_dir),
        **runtime,
    }


def runtime_environment(*, dynamodb_endpoint: str, moto_endpoint: str) -> dict[str, str]:
    """What the Lambda service and the local world add to every handler's environment.

    Production code makes plain boto3 clients; boto3 reads endpoints from AWS_ENDPOINT_URL(_<SERVICE>),
    so only endpoints differ from AWS. Credentials are fakes the emulators accept.
    """
    return {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": dynamodb_endpoint,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
