"""Lambda execution environments: each function's invocations run in worker processes of its own.

An ``Environment`` is one worker process (``python -m amends_local.bootstrap`` in the function's code directory)
started with exactly the environment it is given: the function's, from the template, and what Lambda adds (see
``lambdas.function_environment``). It imports the handler once (the cold start) and then serves one invocation
at a time (warm), with its own module state, over a pipe (the protocol is in ``bootstrap``). Its log (stderr,
where the worker also points stdout) is the runtime's stderr or a file of the function's.

An ``EnvironmentPool`` holds one function's environments: an idle one is reused (the most recently used, as
Lambda favours warm ones), a new one is started on demand while fewer than the function's concurrency exist;
beyond that a caller waits for one to come free, at most ``wait`` seconds, then gets ``FunctionBusy`` (Lambda's
throttle: a synchronous caller such as API Gateway asks for no wait; event sources and asynchronous invocations
wait, as Lambda's pollers and async queue retry a throttle).

Failures are Lambda's: a handler's exception arrives as ``FunctionError`` with the exception's class name as
``error_type`` (what Step Functions' Retry/Catch match); an invocation that outlives the function's Timeout
fails with ``Sandbox.Timedout`` ("Task timed out after N.00 seconds") and its environment is killed, so the
next invocation starts a new one; a worker that dies mid-invocation fails it with ``Runtime.ExitError``.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

INIT_TIMEOUT = 60  # seconds for a worker to import its handler (Lambda allows 10; a busy laptop needs more)
STOP_GRACE = 2  # seconds a worker gets to finish and exit after its stdin closes, before it is killed


class FunctionError(Exception):
    """The function failed; Lambda's error payload: ``error_type`` (the handler's exception class name, or one of
    Lambda's own such as ``Sandbox.Timedout``), its message and the function's stack trace (also a note, so it
    shows wherever the exception is printed)."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.error_type: str = payload.get("errorType") or "Unhandled"
        self.message: str = payload.get("errorMessage") or ""
        self.stack_trace: list[str] = list(payload.get("stackTrace") or [])
        super().__init__(self.message)
        if self.stack_trace:
            self.add_note("Traceback in the function (most recent call last):\n" + "".join(self.stack_trace).rstrip())

    @property
    def payload(self) -> dict[str, Any]:
        return {"errorType": self.error_type, "errorMessage": self.message, "stackTrace": self.stack_trace}


class FunctionBusy(RuntimeError):
    """Every environment the function may have stayed busy for longer than the caller may wait."""


def error_type(error: BaseException) -> str:
    """The name Lambda would report for a failed invocation (Step Functions' error name)."""
    return error.error_type if isinstance(error, FunctionError) else type(error).__name__


def error_payload(error: BaseException) -> dict[str, Any]:
    """Lambda's error payload for a failed invocation: the function's own, or one naming the runtime's error."""
    if isinstance(error, FunctionError):
        return error.payload
    return {"errorType": type(error).__name__, "errorMessage": str(error),
            "stackTrace": traceback.format_tb(error.__traceback__)}


class Environment:
    """One worker process serving one function, one invocation at a time."""

    def __init__(self, *, name: str, environment: dict[str, str], code_dir: Path, timeout: int,
                 log_file: Path | None, meter: bool, iam: str | None = None) -> None:
        self.name = name
        self.timeout = timeout
        self._buffer = bytearray()
        command = [sys.executable, "-m", "amends_local.bootstrap", *(["--meter"] if meter else []),
                   *([f"--iam={iam}"] if iam else [])]  # the IAM authorizer's socket: calls are checked
        log = open(log_file, "ab") if log_file is not None else None  # noqa: SIM115 - the worker keeps its own copy
        try:
            self.process = subprocess.Popen(command, cwd=code_dir, env=environment, stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=log)
        finally:
            if log is not None:
                log.close()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = INIT_TIMEOUT) -> None:
        """Wait for the handler's import; raises FunctionError (and ends the worker) if it failed."""
        try:
            reply = self._read(time.monotonic() + timeout)
        except TimeoutError:
            self.kill()
            raise FunctionError({"errorType": "Sandbox.Timedout",
                                 "errorMessage": f"{self.name}: the handler's import took over {timeout}s"}) from None
        except EOFError:
            raise FunctionError({"errorType": "Runtime.ExitError",
                                 "errorMessage": f"{self.name}: Runtime exited during init: {self._exit()}"}) from None
        if "error" in reply:
            self.end(STOP_GRACE)
            raise FunctionError(reply["error"])

    def invoke(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one invocation, wait for its reply ({"result"} or {"error"}, maybe {"calls"}) at most the Timeout.

        A timeout or the worker's death raises FunctionError, as Lambda reports them, and leaves this environment
        dead (the pool then starts another).
        """
        request_id = request["context"]["aws_request_id"]
        deadline = time.monotonic() + self.timeout
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
            return self._read(deadline)
        except TimeoutError:
            self.kill()
            message = f"RequestId: {request_id} Error: Task timed out after {self.timeout:.2f} seconds"
            raise FunctionError({"errorType": "Sandbox.Timedout", "errorMessage": message}) from None
        except (EOFError, OSError, ValueError):  # ValueError: stdin closed by stop() meanwhile
            message = f"RequestId: {request_id} Error: Runtime exited with error: {self._exit()}"
            raise FunctionError({"errorType": "Runtime.ExitError", "errorMessage": message}) from None

    def _read(self, deadline: float) -> dict[str, Any]:
        """The worker's next message; TimeoutError past the deadline, EOFError if the worker ended."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise EOFError
            self._buffer += chunk
        end = self._buffer.index(b"\n")
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        return json.loads(line)

    def _exit(self) -> str:
        """How the worker ended, in Lambda's words ("exit status 1", "signal: killed")."""
        code = self.end(1)
        if code < 0:
            return f"signal: {signal.Signals(-code).name.removeprefix('SIG').lower()}"
        return f"exit status {code}"

    # Ending. Any thread may close stdin or end the process; only the thread that holds the environment (the pool's
    # caller, or the stack once the pool is closed) releases the pipes, so no read ever meets a reused descriptor.
    def close(self) -> None:
        """Ask the worker to exit (EOF on its stdin) once its current invocation, if any, is done."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except (OSError, ValueError):
            pass

    def end(self, wait: float) -> int:
        """Wait at most ``wait`` seconds for the worker to exit, then kill it; returns its exit code."""
        try:
            return self.process.wait(max(wait, 0))
        except subprocess.TimeoutExpired:
            return self.kill()

    def kill(self) -> int:
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait()

    def release(self) -> None:
        """Close the pipes of an ended worker."""
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except (OSError, ValueError):
                pass


class EnvironmentPool:
    """One function's environments: reused when idle, started on demand up to ``limit``."""

    def __init__(self, name: str, start: Callable[[], Environment], *, limit: int, wait: float) -> None:
        self.name = name
        self.limit = limit
        self._start = start
        self._wait = wait
        self._idle: list[Environment] = []
        self._all: set[Environment] = set()  # started and not yet ended: idle, busy or starting
        self._slots = 0  # environments counted against the limit (including those being started)
        self._changed = threading.Condition()
        self._closed = False

    @property
    def size(self) -> int:
        """How many environments exist now (idle or busy)."""
        with self._changed:
            return len(self._all)

    def start_one(self) -> Environment:
        """Start an environment now (at stack start: the caller waits for it to be ready, then ``put`` s it)."""
        with self._changed:
            self._slots += 1
        return self._started()

    @contextmanager
    def environment(self, wait: float | None = None) -> Iterator[Environment]:
        """An environment for one invocation: a warm idle one, a new one, or the first to come free within
        ``wait`` seconds (the pool's own wait when None; 0 refuses at once, as Lambda throttles a synchronous
        caller)."""
        environment = self._acquire(self._wait if wait is None else wait)
        try:
            yield environment
        finally:
            self.put(environment)

    def _acquire(self, wait: float) -> Environment:
        deadline = time.monotonic() + wait
        with self._changed:
            while True:
                if self._closed:
                    raise FunctionBusy(f"{self.name}: the local runtime is stopping")
                if self._idle:
                    return self._idle.pop()
                if self._slots < self.limit:
                    self._slots += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise FunctionBusy(f"{self.name}: all {self.limit} execution environments (its concurrency) "
                                       f"stayed busy for {wait}s")
                self._changed.wait(remaining)
        environment = self._started()
        try:
            environment.wait_ready()
        except BaseException:
            self.put(environment)
            raise
        return environment

    def _started(self) -> Environment:
        try:
            environment = self._start()
        except BaseException:
            with self._changed:
                self._slots -= 1
                self._changed.notify()
            raise
        with self._changed:
            self._all.add(environment)
        return environment

    def put(self, environment: Environment) -> None:
        """Back from an invocation (or ready): idle if it lives, else ended and its slot free for a new one."""
        with self._changed:
            keep = environment.alive and not self._closed
            if keep:
                self._idle.append(environment)
            else:
                self._all.discard(environment)
                self._slots -= 1
            self._changed.notify()
        if not keep:
            environment.close()
            environment.end(STOP_GRACE)
            environment.release()

    def close(self) -> tuple[list[Environment], list[Environment]]:
        """Refuse new invocations and send every worker EOF. Returns (idle, busy): the idle ones are the caller's
        to end and release; the caller may end busy ones too (their invocation then fails), never release them."""
        with self._changed:
            self._closed = True
            idle, self._idle = self._idle, []
            busy = [e for e in self._all if e not in idle]
            self._all.clear()
            self._changed.notify_all()
        for environment in idle + busy:
            environment.close()
        return idle, busy
