"""The SLA configuration on disk: calendars, policies and the rules that choose a policy for a case.

One folder (``amends/config/sla`` by default; ``SLA_CONFIG_DIR`` points elsewhere)::

    calendars/<id>.json   a BusinessCalendar
    policies/<id>.json    a Policy (its calendar by id)
    rules.json            which policy a case gets
    escalation.json       what happens as a milestone gets late (amends.domain.escalation)

Everything is checked when it is loaded, and a problem is reported with the file and the field named, so a stack with
a broken file fails at its first cold start with a message that says what to fix, not at the first deadline.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from amends.domain.calendar import BusinessCalendar
from amends.domain.escalation import EscalationRules
from amends.domain.sla import Policy

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "config" / "sla"
FIELDS = ("product", "channel", "jurisdiction", "category")


class SlaConfigInvalid(Exception):
    """The SLA configuration cannot be used; the message names the file and the field."""


class PolicyRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    when: dict[str, str | list[str]] = Field(description=f"Any of {', '.join(FIELDS)} -> a value or a list of values.")
    policy: str

    def matches(self, facts: dict[str, str | None]) -> bool:
        for name, wanted in self.when.items():
            values = {v.casefold() for v in ([wanted] if isinstance(wanted, str) else wanted)}
            if (facts.get(name) or "").casefold() not in values:
                return False
        return True


class PolicyRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = None
    rules: list[PolicyRule]
    default: str


class SlaConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    calendars: dict[str, BusinessCalendar]
    policies: dict[str, Policy]
    rules: PolicyRules
    escalation: EscalationRules

    def policy_for(self, **facts: str | None) -> tuple[Policy, BusinessCalendar]:
        """The policy for a case with these facts (product, channel, jurisdiction, category), and its calendar."""
        chosen = next((r.policy for r in self.rules.rules if r.matches(facts)), self.rules.default)
        policy = self.policies[chosen]
        return policy, self.calendars[policy.calendar]


def _problems(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(the whole file)'}: "
                     f"{str(e['msg']).removeprefix('Value error, ')}" for e in error.errors())


def _read(file: Path, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate_json(file.read_bytes())
    except OSError as error:
        raise SlaConfigInvalid(f"{file}: cannot be read: {error.strerror}") from None
    except ValidationError as error:
        raise SlaConfigInvalid(f"{file}: {_problems(error)}") from None


def _folder(path: Path, model: type[BaseModel]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for file in sorted(path.glob("*.json")):
        item = _read(file, model)
        if item.id != file.stem:
            raise SlaConfigInvalid(f"{file}: id: is {item.id!r}, but the file is named {file.name} (name it "
                                   f"{item.id}.json, or change the id)")
        found[item.id] = item
    if not found:
        raise SlaConfigInvalid(f"{path}: no *.json files")
    return found


def parse_config(folder: Path) -> SlaConfig:
    calendars = _folder(folder / "calendars", BusinessCalendar)
    policies = _folder(folder / "policies", Policy)
    rules = _read(folder / "rules.json", PolicyRules)
    for policy in policies.values():
        if policy.calendar not in calendars:
            raise SlaConfigInvalid(f"{folder / 'policies' / (policy.id + '.json')}: calendar: {policy.calendar!r} is "
                                   f"not a calendar (calendars: {', '.join(calendars)})")
    for i, rule in enumerate(rules.rules):
        if rule.policy not in policies:
            raise SlaConfigInvalid(f"{folder / 'rules.json'}: rules.{i}.policy: {rule.policy!r} is not a policy "
                                   f"(policies: {', '.join(policies)})")
        if unknown := [f for f in rule.when if f not in FIELDS]:
            raise SlaConfigInvalid(f"{folder / 'rules.json'}: rules.{i}.when.{unknown[0]}: not a field rules may test "
                                   f"({', '.join(FIELDS)})")
    if rules.default not in policies:
        raise SlaConfigInvalid(f"{folder / 'rules.json'}: default: {rules.default!r} is not a policy "
                               f"(policies: {', '.join(policies)})")
    escalation = _read(folder / "escalation.json", EscalationRules)
    try:
        escalation.check_against(policies)
    except ValueError as error:
        raise SlaConfigInvalid(f"{folder / 'escalation.json'}: {error}") from None
    return SlaConfig(calendars=calendars, policies=policies, rules=rules, escalation=escalation)


@cache
def load_config(folder: str | None = None) -> SlaConfig:
    """The configuration in ``folder`` (default: the one shipped with the code); read once per process."""
    return parse_config(Path(folder) if folder else DEFAULT_DIR)
