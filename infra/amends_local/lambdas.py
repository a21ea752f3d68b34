"""The project's Lambda handlers, loaded in this process and invoked with a Lambda-shaped context.

Every function's module is called ``app.py``, so each is imported from its file under a unique module name
(``amends_fn_<LogicalId>``). All handlers share one process, hence one ``os.environ``: each function's
resolved environment is merged into it once, at startup, and two functions that set one variable to different
values are refused (the handlers would otherwise read each other's configuration).

Invocations come from several threads (pollers, gateway, Step Functions). Each function runs one invocation
at a time, as one Lambda execution environment does: handlers keep per-invocation state in module globals
(Powertools' batch processor, logger keys) that concurrent threads would share. Different functions run in
parallel. A caller that waits longer than the function's Timeout gets ``FunctionBusy`` instead of hanging.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from amends_local.template import REGION, Function, Template

log = logging.getLogger(__name__)


class FunctionBusy(RuntimeError):
    """The function's one execution environment stayed busy for longer than its Timeout."""


class EnvironmentConflict(RuntimeError):
    """Two functions set the same variable to different values; in-process they cannot both have theirs."""


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


def environment_for(functions: Mapping[str, Function]) -> dict[str, str]:
    """The union of the functions' environments; raises EnvironmentConflict when two disagree."""
    merged: dict[str, tuple[str, str]] = {}
    for fn in functions.values():
        for key, value in fn.environment.items():
            if key in merged and merged[key][1] != value:
                raise EnvironmentConflict(
                    f"{key} is {merged[key][1]!r} for {merged[key][0]} but {value!r} for {fn.logical_id}: "
                    f"handlers share one process locally; give one of them another variable name"
                )
            merged.setdefault(key, (fn.logical_id, value))
    return {key: value for key, (_, value) in merged.items()}


class FunctionRegistry:
    def __init__(self, template: Template, *, root: Path | None = None) -> None:
        self.template = template
        self.root = root or template.root
        self.functions: dict[str, Function] = template.functions()
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._by_name = {fn.name: fn.logical_id for fn in self.functions.values()}

    def environment(self) -> dict[str, str]:
        return environment_for(self.functions)

    def load_all(self) -> None:
        """Import every handler now, so an import error shows at startup rather than at the first request."""
        for logical_id in self.functions:
            self.handler(logical_id)

    def handler(self, logical_id: str) -> Callable[[Any, Any], Any]:
        with self._lock:
            if logical_id not in self._handlers:
                fn = self._function(logical_id)
                module = _import_file(self.root / fn.code_uri / fn.module_file, f"amends_fn_{logical_id}")
                self._handlers[logical_id] = getattr(module, fn.handler_attribute)
            return self._handlers[logical_id]

    def logical_id_for(self, name_or_arn: str) -> str:
        """A function's logical id from its logical id, local name or ARN."""
        if name_or_arn in self.functions:
            return name_or_arn
        name = name_or_arn.split(":function:", 1)[-1].split(":", 1)[0]
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"No function {name_or_arn!r} in the template") from None

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Run the handler as Lambda would (one invocation); its exceptions propagate to the caller.

        One invocation at a time per function, as in a single Lambda execution environment: handlers keep
        per-invocation state in module globals (Powertools' batch processor, logger keys), which concurrent
        threads would otherwise share.
        """
        fn = self._function(self.logical_id_for(logical_id))
        handler = self.handler(fn.logical_id)
        lock = self._environment_lock(fn.logical_id)
        if not lock.acquire(timeout=fn.timeout):
            raise FunctionBusy(
                f"{fn.logical_id} was busy with another invocation for {fn.timeout}s (its Timeout)"
            )
        try:
            return handler(event, self.context(fn))
        finally:
            lock.release()

    def _environment_lock(self, logical_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(logical_id, threading.Lock())

    def context(self, fn: Function) -> LambdaContext:
        request_id = str(uuid.uuid4())
        return LambdaContext(
            function_name=fn.name,
            function_version="$LATEST",
            invoked_function_arn=fn.arn,
            memory_limit_in_mb=fn.memory_size,
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{fn.name}",
            log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{request_id.replace('-', '')}",
            timeout_seconds=fn.timeout,
        )

    def _function(self, logical_id: str) -> Function:
        try:
            return self.functions[logical_id]
        except KeyError:
            raise KeyError(f"No function {logical_id!r} in the template") from None


def _import_file(path: Path, module_name: str) -> ModuleType:
    if not path.exists():
        raise FileNotFoundError(
            f"Handler module {path} (from CodeUri and Handler in the template) does not exist"
        )
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


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


def apply_environment(values: Mapping[str, str]) -> dict[str, str | None]:
    """Set variables in os.environ; returns what was there before, for ``restore_environment``."""
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    return previous


def restore_environment(previous: Mapping[str, str | None]) -> None:
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
