"""Configuration, read from the environment the template sets, at invocation time (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, ValidationError

from amends.domain.clock import Clock, OffsetClock, SystemClock
from amends.domain.handling import ExternalRecourse, HandlingPolicy
from amends.domain.priority import PriorityRules, load_rules
from amends.domain.sla_config import SlaConfig, load_config


class Settings(BaseModel):
    table_name: str
    event_bus_name: str
    idempotency_table_name: str | None = None
    organisation_time_zone: str = "Europe/London"
    reference_prefix: str = "CMP"
    final_response_days: int = Field(56, ge=1)
    sender_address: str | None = None
    outbox_grace_seconds: int = Field(300, ge=0)
    raw_mail_bucket: str | None = None  # where SES stores inbound mail, for the email ingest function
    state_machine_arn: str | None = None  # the CaseLifecycle state machine, for the function that starts executions
    staff_user_pool_id: str | None = None  # the staff user pool, where the notifier finds staff addresses
    # Email (amends.services.outbound, amends.services.email_threads): the address replies go to (a token is added
    # to it per case: complaints+<token>@...), and how many automatic messages one address gets per hour at most.
    reply_address: str | None = Field(None, description="The inbound address replies go to (complaints@example.com).")
    automatic_mail_per_hour: int = Field(5, ge=1, description="Automatic emails to one address per hour, at most.")
    ses_configuration_set: str | None = None  # sent mail's bounces and complaints come back through it
    attachments_bucket: str | None = None  # where files that came by email are kept, for ingestion and downloads
    attachment_max_count: int = Field(20, ge=0, description="Files kept from one email, at most.")
    attachment_max_mb: float = Field(10, gt=0, description="Size of one file kept from an email, at most (MB).")
    attachment_max_total_mb: float = Field(25, gt=0, description="Size of all the files kept from one email (MB).")
    default_language: str = Field("en", description="Mail templates' language for staff, and for a complainant "
                                                    "whose language has none (amends/templates/mail/<language>).")
    external_recourse: str = (
        "If you are not satisfied with our final response, or have not had it within the time frame, you can "
        "refer your complaint to the ombudsman free of charge, usually within six months of our final response."
    )

    # Handling (7.7-7.9)
    approval_threshold: Decimal = Field(Decimal(500), gt=0, description="Money offered above this needs approval.")
    decision_reply_days: int = Field(28, ge=1, description="Days the complainant has to answer a decision.")
    reopen_window_days: int = Field(56, ge=1, description="Days after closure in which a case can be reopened.")
    external_body: str = Field("the Financial Ombudsman Service", min_length=1)
    external_time_limit: str = Field("six months", min_length=1)
    external_details: str = Field("It is free of charge and does not affect your legal rights.", min_length=1)
    priority_rules_file: str | None = Field(None, description="Another priority rules file than the shipped one.")
    # Deadlines (amends.domain.sla): the policy a case gets is chosen by the rules in the SLA folder.
    jurisdiction: str | None = Field(None, description="Where the organisation is regulated (GB, US, AU...), for the rules.")
    sla_config_dir: str | None = Field(None, description="Another SLA folder (calendars, policies, rules) than the shipped one.")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.organisation_time_zone)

    def handling_policy(self) -> HandlingPolicy:
        return HandlingPolicy(
            approval_threshold=self.approval_threshold,
            reply_window=timedelta(days=self.decision_reply_days),
            reopen_window=timedelta(days=self.reopen_window_days),
            external=ExternalRecourse(body=self.external_body, time_limit=self.external_time_limit,
                                      details=self.external_details),
        )

    def sla_config(self) -> SlaConfig:
        """Raises ``SlaConfigInvalid`` naming the file and the field."""
        return load_config(self.sla_config_dir)

    def priority_rules(self) -> PriorityRules:
        """Raises ``PriorityRulesInvalid`` naming the file and the field."""
        return load_rules(self.priority_rules_file)


# Optional settings and the environment variables that set them (unset or empty: the default above).
_OPTIONAL_ENV = {
    "approval_threshold": "APPROVAL_THRESHOLD",
    "decision_reply_days": "DECISION_REPLY_DAYS",
    "reopen_window_days": "REOPEN_WINDOW_DAYS",
    "external_body": "EXTERNAL_BODY",
    "external_time_limit": "EXTERNAL_TIME_LIMIT",
    "external_details": "EXTERNAL_DETAILS",
    "priority_rules_file": "PRIORITY_RULES_FILE",
    "external_recourse": "EXTERNAL_RECOURSE",
    "jurisdiction": "JURISDICTION",
    "sla_config_dir": "SLA_CONFIG_DIR",
    "reply_address": "REPLY_ADDRESS",
    "automatic_mail_per_hour": "AUTOMATIC_MAIL_PER_HOUR",
    "attachments_bucket": "ATTACHMENTS_BUCKET",
    "ses_configuration_set": "SES_CONFIGURATION_SET",
    "attachment_max_count": "ATTACHMENT_MAX_COUNT",
    "attachment_max_mb": "ATTACHMENT_MAX_MB",
    "attachment_max_total_mb": "ATTACHMENT_MAX_TOTAL_MB",
    "default_language": "DEFAULT_LANGUAGE",
}


@cache
def get_settings() -> Settings:
    env = os.environ
    missing = [name for name in ("TABLE_NAME", "EVENT_BUS_NAME") if not env.get(name)]
    if missing:
        raise RuntimeError(f"Missing environment variables {', '.join(missing)}: set by template.yaml in AWS "
                           f"and by the local runtime (make run).")
    optional = {field: env[name] for field, name in _OPTIONAL_ENV.items() if env.get(name)}
    try:
        return _settings_from(env, optional)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        raise RuntimeError(f"Environment variable {_OPTIONAL_ENV.get(field, field.upper())}={first.get('input')!r} "
                           f"is not valid: {first['msg']}") from None


def _settings_from(env: Mapping[str, str], optional: dict[str, str]) -> Settings:
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
        raw_mail_bucket=env.get("RAW_MAIL_BUCKET") or None,
        staff_user_pool_id=env.get("STAFF_USER_POOL_ID") or None,
        **optional,  # type: ignore[arg-type]
    )


def get_clock() -> Clock:
    """The system clock, unless the local runtime has moved time forward (it sets the offset; production never does)."""
    offset = os.environ.get("AMENDS_CLOCK_OFFSET_SECONDS")
    return OffsetClock(timedelta(seconds=float(offset))) if offset else SystemClock()
