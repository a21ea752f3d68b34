"""Configuration, read from the environment the template sets, at invocation time (never at import)."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from amends.domain.clock import Clock, OffsetClock, SystemClock


class Settings(BaseModel):
    table_name: str
    event_bus_name: str
    idempotency_table_name: str | None = None
    organisation_time_zone: str = "Europe/London"
    reference_prefix: str = "CMP"
    final_response_days: int = Field(56, ge=1)
    sender_address: str | None = None
    outbox_grace_seconds: int = Field(300, ge=0)
    state_machine_arn: str | None = None  # the CaseLifecycle state machine, for the function that starts executions
    external_recourse: str = (
        "If you are not satisfied with our final response, or have not had it within the time frame, you can "
        "refer your complaint to the ombudsman free of charge, usually within six months of our final response."
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.organisation_time_zone)


@cache
def get_settings() -> Settings:
    env = os.environ
    missing = [name for name in ("TABLE_NAME", "EVENT_BUS_NAME") if not env.get(name)]
    if missing:
        raise RuntimeError(f"Missing environment variables {', '.join(missing)}: set by template.yaml in AWS "
                           f"and by the local runtime (make run).")
    return Settings(
        table_name=env["TABLE_NAME"],
        event_bus_name=env["EVENT_BUS_NAME"],
        idempotency_table_name=env.get("IDEMPOTENCY_TABLE_NAME") or None,
        organisation_time_zone=env.get("ORGANISATION_TIME_ZONE", "Europe/London"),
        reference_prefix=env.get("REFERENCE_PREFIX", "CMP"),
        final_response_days=int(env.get("FINAL_RESPONSE_DAYS", "56")),
        sender_address=env.get("SENDER_ADDRESS") or None,
        outbox_grace_seconds=int(env.get("OUTBOX_GRACE_SECONDS", "300")),
        state_machine_arn=env.get("STATE_MACHINE_ARN") or None,
        **({"external_recourse": env["EXTERNAL_RECOURSE"]} if env.get("EXTERNAL_RECOURSE") else {}),
    )


def get_clock() -> Clock:
    """The system clock, unless the local runtime has moved time forward (it sets the offset; production never does)."""
    offset = os.environ.get("AMENDS_CLOCK_OFFSET_SECONDS")
    return OffsetClock(timedelta(seconds=float(offset))) if offset else SystemClock()
