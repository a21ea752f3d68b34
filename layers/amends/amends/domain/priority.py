"""The priority an assessment gives a case, as data: an ordered list of rules, the first that matches wins.

The organisation's rules ship in ``amends/config/priority_rules.json``; a deployment may point
``PRIORITY_RULES_FILE`` at its own. A file is checked when it is loaded, and refused with the file and the field
named, when a condition names no field of an assessment, a value the field cannot take, or when some assessment
with a safety risk would not be urgent (ISO 10002 asks for those to be handled at once).
"""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from amends.domain.handling import Complexity, Findings, Impact, Severity
from amends.domain.model import Priority

DEFAULT_RULES_FILE = Path(__file__).resolve().parents[1] / "config" / "priority_rules.json"

# The fields a rule may test, each with the values it may take.
_FIELDS = {name: TypeAdapter(Annotated[(f.annotation, *f.metadata)] if f.metadata else f.annotation)
           for name, f in Findings.model_fields.items()}
_YES_NO = {name for name, f in Findings.model_fields.items() if f.annotation is bool}  # true/false, not "yes" or 1


class PriorityRulesInvalid(Exception):
    """The rules file cannot be used; the message names the file and the field."""


def _normal(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


class PriorityRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    when: dict[str, Any] = Field(description="Field of the assessment -> a value, or a list of values (any of).")
    priority: Priority

    @field_validator("when")
    @classmethod
    def _known_fields_and_values(cls, when: dict[str, Any]) -> dict[str, Any]:
        checked: dict[str, Any] = {}
        for name, wanted in when.items():
            if name not in _FIELDS:
                raise ValueError(f"{name!r} is not a field of an assessment (fields: {', '.join(_FIELDS)})")
            values = wanted if isinstance(wanted, list) else [wanted]
            if not values:
                raise ValueError(f"{name}: an empty list matches nothing")
            try:
                valid = [_FIELDS[name].validate_python(v, strict=name in _YES_NO) for v in values]
            except ValidationError as error:
                raise ValueError(f"{name}: {error.errors()[0]['msg']} (got {wanted!r})") from None
            checked[name] = valid if isinstance(wanted, list) else valid[0]
        return checked

    def matches(self, findings: Findings) -> bool:
        for name, wanted in self.when.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            if _normal(getattr(findings, name)) not in {_normal(v) for v in values}:
                return False
        return True


class PriorityRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = None
    rules: list[PriorityRule]
    default: Priority = Priority.NORMAL

    def priority_for(self, findings: Findings) -> Priority:
        return next((rule.priority for rule in self.rules if rule.matches(findings)), self.default)

    @model_validator(mode="after")
    def _safety_is_always_urgent(self) -> PriorityRules:
        # Few enough assessments differ to try them all; categories the rules do not name behave alike.
        named = {v for r in self.rules for w in [r.when.get("category", [])] for v in (w if isinstance(w, list) else [w])}
        for severity, complexity, impact, immediate, category in itertools.product(
            Severity, Complexity, Impact, (False, True), sorted(named) + ["any other category"]
        ):
            findings = Findings(severity=severity, safety_risk=True, complexity=complexity, impact=impact,
                                immediate_action=immediate, category=category)
            if (priority := self.priority_for(findings)) is not Priority.URGENT:
                rule = next((f"rules[{i}]" for i, r in enumerate(self.rules) if r.matches(findings)), "default")
                raise ValueError(
                    f"a safety risk must make a case urgent, but {rule} makes it {priority.value} for "
                    f"{findings.model_dump(mode='json')}: put a rule {{\"when\": {{\"safety_risk\": true}}, "
                    f"\"priority\": \"urgent\"}} first")
        return self


def parse_rules(text: str | bytes, source: str) -> PriorityRules:
    try:
        return PriorityRules.model_validate_json(text)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in error.errors())
        raise PriorityRulesInvalid(f"priority rules file {source} is not valid: {problems}") from None


@cache
def load_rules(path: str | None = None) -> PriorityRules:
    """The rules in ``path`` (default: the ones shipped with the code); read once per process."""
    file = Path(path) if path else DEFAULT_RULES_FILE
    try:
        text = file.read_bytes()
    except OSError as error:
        raise PriorityRulesInvalid(f"priority rules file {file} cannot be read: {error.strerror}") from None
    return parse_rules(text, str(file))
