"""A background poller: a daemon thread that polls until stopped, and says whether it is idle.

``wait_until_idle`` (in the stack) needs to know that each poller has looked for work *after* a given moment
and found none; ``generation`` counts completed polls and ``last_busy_generation`` remembers the last one that
found work.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class Worker:
    idle_wait = 0.1  # seconds between polls that found nothing: short, so tests are quick

    def __init__(self, name: str) -> None:
        self.name = name
        self.generation = 0
        self.last_busy_generation = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("%s did not stop within %ss (a handler is still running)", self.name, timeout)

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
            except Exception:  # noqa: BLE001 - a poller must survive an emulator hiccup; the error is logged
                log.exception("%s: poll failed; retrying", self.name)
                busy = True
                self._stop.wait(0.5)
            self.generation += 1
            if busy:
                self.last_busy_generation = self.generation
            else:
                self._stop.wait(self.idle_wait)
