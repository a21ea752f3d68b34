"""The priority rule is data: the shipped file, a file of one's own, and files that are refused with the reason."""

from __future__ import annotations

import json

import pytest
from amends.domain.handling import Complexity, Findings, Impact, Severity
from amends.domain.model import Priority
from amends.domain.priority import DEFAULT_RULES_FILE, PriorityRulesInvalid, load_rules, parse_rules
from amends.settings import Settings
from hypothesis import given, settings
from hypothesis import strategies as st

any_findings = st.builds(Findings, severity=st.sampled_from(list(Severity)), safety_risk=st.booleans(),
                         complexity=st.sampled_from(list(Complexity)), impact=st.sampled_from(list(Impact)),
                         immediate_action=st.booleans(), category=st.sampled_from(["fees", "Fees", "service", "x"]))


def expected(f: Findings) -> Priority:
    """The shipped rules, in words."""
    if f.safety_risk or f.severity is Severity.CRITICAL:
        return Priority.URGENT
    if f.severity is Severity.HIGH or f.immediate_action:
        return Priority.HIGH
    if f.severity is Severity.LOW and f.impact is Impact.LOW:
        return Priority.LOW
    return Priority.NORMAL


@settings(max_examples=300, deadline=None)
@given(any_findings)
def test_the_shipped_rules_first_match_wins(f: Findings) -> None:
    assert load_rules().priority_for(f) is expected(f)


rule = st.fixed_dictionaries(
    {"when": st.dictionaries(st.sampled_from(["severity", "safety_risk", "impact", "immediate_action", "category"]),
                             st.sampled_from(["low", "high", "critical", True, False, "fees", ["low", "medium"]]),
                             max_size=3),
     "priority": st.sampled_from(["urgent", "high", "normal", "low"])})


@settings(max_examples=300, deadline=None)
@given(st.lists(rule, max_size=5), any_findings)
def test_no_file_that_is_accepted_lets_a_safety_risk_be_anything_but_urgent(rules: list, f: Findings) -> None:
    try:
        parsed = parse_rules(json.dumps({"rules": rules}), "generated.json")
    except PriorityRulesInvalid:
        return
    if f.safety_risk:
        assert parsed.priority_for(f) is Priority.URGENT


@pytest.mark.parametrize(("rules", "named"), [
    ({"rules": [{"when": {"severity": "severe"}, "priority": "high"}]}, "rules.0.when: severity"),
    ({"rules": [{"when": {"colour": "red"}, "priority": "high"}]}, "'colour' is not a field"),
    ({"rules": [{"when": {"safety_risk": "yes"}, "priority": "urgent"}]}, "safety_risk"),
    ({"rules": [{"when": {"safety_risk": True}, "priority": "soon"}]}, "rules.0.priority"),
    ({"rules": [{"when": {"severity": "low"}, "priority": "low"}, {"when": {"safety_risk": True}, "priority": "urgent"}]},
     "a safety risk must make a case urgent, but rules[0] makes it low"),
    ({"rules": [], "default": "normal"}, "but default makes it normal"),
    ({"rule": []}, "rules"),
])
def test_a_bad_file_is_refused_naming_the_file_and_the_field(tmp_path, rules: dict, named: str) -> None:
    path = tmp_path / "my-rules.json"
    path.write_text(json.dumps(rules))
    with pytest.raises(PriorityRulesInvalid) as refused:
        load_rules(str(path))
    assert str(path) in str(refused.value) and named in str(refused.value)


def test_settings_point_at_another_file_and_a_missing_one_is_named(tmp_path) -> None:
    path = tmp_path / "ours.json"
    path.write_text(json.dumps({"rules": [{"when": {"safety_risk": True}, "priority": "urgent"},
                                          {"when": {"category": ["fees", "charges"]}, "priority": "high"}],
                                "default": "low"}))
    ours = Settings(table_name="t", event_bus_name="b", priority_rules_file=str(path)).priority_rules()
    f = Findings(severity="low", safety_risk=False, complexity="simple", impact="low", immediate_action=False,
                 category="Charges")
    assert ours.priority_for(f) is Priority.HIGH  # categories match whatever their case
    assert ours.priority_for(f.model_copy(update={"category": "service"})) is Priority.LOW
    assert Settings(table_name="t", event_bus_name="b").priority_rules() == load_rules(str(DEFAULT_RULES_FILE))
    with pytest.raises(PriorityRulesInvalid, match="nowhere.json cannot be read"):
        load_rules(str(tmp_path / "nowhere.json"))


def test_a_refusal_lists_every_problem_of_the_file_and_names_a_whole_file_that_is_wrong() -> None:
    with pytest.raises(PriorityRulesInvalid) as refused:
        parse_rules(json.dumps({"rules": [{"when": {"colour": "red"}, "priority": "soon"}]}), "two.json")
    assert str(refused.value) == (
        "priority rules file two.json is not valid: rules.0.when: 'colour' is not a field of an assessment (fields: "
        "severity, safety_risk, complexity, impact, immediate_action, category); rules.0.priority: Input should be "
        "'urgent', 'high', 'normal' or 'low'")
    with pytest.raises(PriorityRulesInvalid) as refused:
        parse_rules("[]", "list.json")
    assert str(refused.value) == "priority rules file list.json is not valid: file: Input should be an object"
