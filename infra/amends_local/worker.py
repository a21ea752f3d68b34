"""A background poller: a daemon thread that polls until stopped, and says whether it is idle.

``wait_until_idle`` (in the stack) needs to know that each poller has looked for work *after* a given moment
and found none; ``generation`` counts completed polls and ``last_busy_generation`` remembers the last one that
found work. A poller that hands work off (``Tasks``: batches invoked concurrently, as Lambda's pollers do) counts
as busy while any of it runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Worker:
    idle_wait = 0.1  # seconds between polls that found nothing: short, so tests are quick

    def __init__(self, name: str) -> None:
        self.name = name
        self.generation = 0
        self.last_busy_generation = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.tasks: list[Tasks] = []  # work this poller hands off; stop() waits for it too

    def poll_once(self) -> bool:
        """Look for work and do it; True if there was any."""
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def signal_stop(self) -> None:
        """Ask the thread to stop after its current poll (``stop`` also waits for it)."""
        self._stop.set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("%s did not stop within %ss (a handler is still running)", self.name, timeout)
        for tasks in self.tasks:
            if not tasks.join(max(deadline - time.monotonic(), 0)):
                log.warning("%s: %d task(s) still running after %ss", self.name, tasks.running, timeout)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def sleep(self, seconds: float) -> bool:
        """Sleep unless stopped; False when stopping."""
        return not self._stop.wait(seconds)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once()
            except Exception:
                log.exception("%s: poll failed; retrying", self.name)
                busy = True
                self._stop.wait(0.5)
            self.generation += 1
            if busy:
                self.last_busy_generation = self.generation
            else:
                self._stop.wait(self.idle_wait)


class Tasks:
    """Work a poller hands off: at most ``limit`` at once, each in a daemon thread of its own."""

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = max(1, limit)
        self._running = 0
        self._changed = threading.Condition()

    @property
    def running(self) -> int:
        with self._changed:
            return self._running

    def wait_for_room(self, timeout: float) -> bool:
        """True as soon as fewer than ``limit`` run; False if none ended within ``timeout``."""
        with self._changed:
            return self._changed.wait_for(lambda: self._running < self.limit, timeout)

    def wait_for_change(self, timeout: float) -> None:
        """Until one ends, at most ``timeout`` seconds (a poller with work in flight and nothing new)."""
        with self._changed:
            if self._running:
                self._changed.wait(timeout)

    def start(self, work: Callable[..., Any], *args: Any) -> None:
        with self._changed:
            self._running += 1
        try:
            threading.Thread(target=self._run, args=(work, *args), name=self.name, daemon=True).start()
        except BaseException:
            self._ended()
            raise

    def join(self, timeout: float) -> bool:
        """Wait for all to end; False if some still run after ``timeout``."""
        with self._changed:
            return self._changed.wait_for(lambda: self._running == 0, timeout)

    def _run(self, work: Callable[..., Any], *args: Any) -> None:
        try:
            work(*args)
        except Exception:
            log.exception("%s: a task failed", self.name)
        finally:
            self._ended()

    def _ended(self) -> None:
        with self._changed:
            self._running -= 1
            self._changed.notify_all()
