"""The runtime clock: real time plus an offset that only ever grows.

Deadlines and schedules are days and minutes apart; to see them happen locally, time is moved forward
(``advance``) instead of waited for. The offset reaches the handlers as ``AMENDS_CLOCK_OFFSET_SECONDS``, set in
their execution environment with each invocation (``amends.settings.get_clock()`` reads it), and drives the
scheduler. ``make run`` keeps it in
``.local/clock.json`` so a restart does not travel back in time; tests keep it in memory.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ENV_VAR = "AMENDS_CLOCK_OFFSET_SECONDS"


class RuntimeClock:
    def __init__(self, state_file: Path | None = None) -> None:
        self._state_file = state_file
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._offset = timedelta(0)
        if state_file is not None and state_file.exists():
            self._offset = timedelta(seconds=float(json.loads(state_file.read_text())["offset_seconds"]))

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, by: timedelta) -> datetime:
        """Move time forward (never backward), tell handlers, wake the scheduler; returns the new now."""
        if by < timedelta(0):
            raise ValueError("The runtime clock only moves forward")
        with self._lock:
            self._offset += by
            if self._state_file is not None:
                self._state_file.parent.mkdir(parents=True, exist_ok=True)
                self._state_file.write_text(
                    json.dumps({"offset_seconds": self._offset.total_seconds()}) + "\n"
                )
            listeners = list(self._listeners)
        for listener in listeners:
            listener()
        return self.now()

    def on_advance(self, listener: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def environment(self) -> dict[str, str]:
        """What the handlers read the clock from (``FunctionRegistry`` sends it with every invocation)."""
        return {ENV_VAR: str(self._offset.total_seconds())}
