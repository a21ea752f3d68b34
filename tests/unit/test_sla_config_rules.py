"""The SLA configuration to the word: every refusal names the file, the field and what it may be instead, several
problems in one file are all reported, a file that cannot be read says why, and the facts a rule tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from amends.domain.sla_config import DEFAULT_DIR, PolicyRule, SlaConfigInvalid, parse_config

POLICIES = "asic-rg271, cfpb, default, fca-disp, fca-psd2"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(DEFAULT_DIR, tmp_path / "sla")
    return tmp_path / "sla"


def edit(folder: Path, relative: str, change) -> None:
    file = folder / relative
    data = json.loads(file.read_text())
    change(data)
    file.write_text(json.dumps(data))


def refusal(folder: Path) -> str:
    with pytest.raises(SlaConfigInvalid) as refused:
        parse_config(folder)
    return str(refused.value).replace(str(folder) + "/", "")


def test_a_policy_on_an_unknown_calendar_names_its_file_and_the_calendars(folder: Path) -> None:
    edit(folder, "policies/cfpb.json", lambda d: d.update(calendar="scotland"))
    assert refusal(folder) == ("policies/cfpb.json: calendar: 'scotland' is not a calendar (calendars: australia-nsw, "
                               "england-and-wales, united-states)")


def test_a_rule_for_an_unknown_policy_names_the_policies(folder: Path) -> None:
    edit(folder, "rules.json", lambda d: d["rules"][2].update(policy="us"))
    assert refusal(folder) == f"rules.json: rules.2.policy: 'us' is not a policy (policies: {POLICIES})"


def test_a_rule_testing_an_unknown_fact_names_the_facts_rules_may_test(folder: Path) -> None:
    edit(folder, "rules.json", lambda d: d["rules"][1]["when"].update(country="GB"))
    assert refusal(folder) == ("rules.json: rules.1.when.country: not a field rules may test (product, channel, "
                               "jurisdiction, category)")


def test_an_unknown_default_policy_names_the_policies(folder: Path) -> None:
    edit(folder, "rules.json", lambda d: d.update(default="none"))
    assert refusal(folder) == f"rules.json: default: 'none' is not a policy (policies: {POLICIES})"


def test_every_problem_of_a_file_is_reported_and_one_of_the_whole_file_says_so(folder: Path) -> None:
    edit(folder, "calendars/england-and-wales.json", lambda d: d.update(closes="08:00"))
    assert refusal(folder) == ("calendars/england-and-wales.json: (the whole file): closes (08:00) must be after opens "
                               "(09:00)")
    edit(folder, "policies/cfpb.json", lambda d: d.update(version=0, at_risk_percent=100))
    edit(folder, "calendars/england-and-wales.json", lambda d: d.update(closes="17:30"))
    assert refusal(folder) == ("policies/cfpb.json: version: Input should be greater than or equal to 1; "
                               "at_risk_percent: Input should be less than 100")


def test_a_missing_file_says_it_cannot_be_read_and_why(folder: Path) -> None:
    (folder / "rules.json").unlink()
    assert refusal(folder) == "rules.json: cannot be read: No such file or directory"


def test_a_folder_without_files_says_so(folder: Path) -> None:
    for file in (folder / "calendars").glob("*.json"):
        file.unlink()
    assert refusal(folder) == "calendars: no *.json files"


def test_a_case_without_a_fact_reads_it_as_empty() -> None:
    rule = PolicyRule(when={"channel": ["", "email"]}, policy="p")
    assert rule.matches({"channel": None})
    assert rule.matches({})
    assert not PolicyRule(when={"channel": "email"}, policy="p").matches({})
