"""Scheduled rules (Schedule events of functions, rules with ScheduleExpression), fired by the runtime clock.

moto's EventBridge stores schedules but never fires them. This fires each enabled scheduled rule when the
*runtime clock* says it is due, so advancing the clock fires due rules at once. A ``rate(N unit)`` rule is
first due one period after the runtime starts, as in AWS. A jump of the clock past several periods fires a
rule
once, not once per missed period (the handlers here are safety nets; a burst would only repeat work).

``cron(...)`` expressions are not evaluated: such a rule is reported once as a warning and fires only through
``fire_now()``.

The event is EventBridge's "Scheduled Event" (source aws.events, resources [rule ARN], time = runtime clock),
handed to the rule's targets by ``eventbridge_bridge.dispatch``.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

from amends_local.clock import RuntimeClock
from amends_local.eventbridge_bridge import dispatch
from amends_local.template import ACCOUNT_ID, REGION, Rule

log = logging.getLogger(__name__)

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_period(expression: str) -> timedelta | None:
    """``rate(5 minutes)`` → 5 minutes; None for anything else (cron). AWS wants the singular for 1 only."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    value, unit = int(match.group(1)), match.group(2)
    if value < 1 or (value == 1) != (not unit.endswith("s")):
        raise ValueError(f"{expression!r}: AWS accepts rate(1 minute) and rate(N minutes) with N > 1")
    return timedelta(seconds=value * _UNITS[unit.rstrip("s")])


def scheduled_event(rule: Rule, at: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [rule.arn],
        "detail": {},
    }


class Scheduler:
    def __init__(self, rules: list[Rule], *, clock: RuntimeClock, moto_endpoint: str) -> None:
        self.clock = clock
        self.moto_endpoint = moto_endpoint
        self.rules = [r for r in rules if r.schedule and r.enabled]
        self._periods: dict[str, timedelta] = {}
        self._due: dict[str, datetime] = {}
        for rule in self.rules:
            period = rate_period(rule.schedule or "")
            if period is None:
                log.warning(
                    "rule %s: %s is not emulated (only rate(...) is); it fires only on fire_now()",
                    rule.name,
                    rule.schedule,
                )
                continue
            self._periods[rule.logical_id] = period
        self._wake = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        clock.on_advance(self.wake)

    def start(self) -> None:
        now = self.clock.now()
        self._due = {rid: now + period for rid, period in self._periods.items()}
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stop = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(10)

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def fire_now(self, logical_id: str | None = None) -> int:
        """Fire every scheduled rule (or one) now, whatever the clock says; returns how many fired."""
        fired = 0
        for rule in self.rules:
            if logical_id in (None, rule.logical_id):
                self._fire(rule, self.clock.now())
                fired += 1
        if logical_id is not None and not fired:
            raise KeyError(f"No enabled scheduled rule {logical_id}")
        return fired

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stop:
                    return
                now = self.clock.now()
                due = [r for r in self.rules if r.logical_id in self._due and self._due[r.logical_id] <= now]
                if not due:
                    nearest = min(self._due.values(), default=None)
                    wait = (nearest - now).total_seconds() if nearest else None
                    self._wake.wait(timeout=None if wait is None else max(wait, 0.01))
                    continue
                for rule in due:
                    self._due[rule.logical_id] = now + self._periods[rule.logical_id]
            for rule in due:
                self._fire(rule, now)

    def _fire(self, rule: Rule, at: datetime) -> None:
        log.info("schedule %s (%s) fired at runtime time %s", rule.name, rule.schedule, at.isoformat())
        try:
            dispatch(rule, scheduled_event(rule, at), moto_endpoint=self.moto_endpoint)
        except Exception:  # noqa: BLE001 - the scheduler keeps running; the missed run is reported
            log.exception("schedule %s: could not hand the event to its targets", rule.name)
