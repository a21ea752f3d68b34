"""The CaseLifecycle state machine as the template deploys it: its role may do what the definition needs and no
more, and every task in the definition retries and catches (its failures, time-outs and aborts have alarms:
test_operational_rules)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The log-delivery actions Step Functions needs to log to CloudWatch Logs; AWS supports no resource-level
# permission for them, so "*" is their only resource (Step Functions developer guide, "IAM policies for logging").
LOG_DELIVERY = {"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups"}


def _machine() -> dict:
    from amends_local.template import Template

    return Template(ROOT / "template.yaml").raw["Resources"]["CaseLifecycleStateMachine"]["Properties"]


def _definition(machine: dict) -> dict:
    return json.loads((ROOT / machine["DefinitionUri"]).read_text())


def test_the_role_invokes_only_the_lifecycle_function_and_delivers_its_logs() -> None:
    machine = _machine()
    invoked, statements = [], []
    for policy in machine["Policies"]:
        if "LambdaInvokePolicy" in policy:
            invoked.append(policy["LambdaInvokePolicy"]["FunctionName"])
        else:
            statements.extend(policy["Statement"])
    assert invoked == [{"Ref": "LifecycleFunction"}]
    assert machine["DefinitionSubstitutions"] == {"LifecycleFunctionArn": {"Fn::GetAtt": ["LifecycleFunction", "Arn"]}}
    [logging] = statements
    assert logging["Effect"] == "Allow" and set(logging["Action"]) == LOG_DELIVERY and logging["Resource"] == "*"
    # No managed policy, no *Crud*/FullAccess shortcut: everything it may do is listed above.
    assert "ManagedPolicyArns" not in machine and "Role" not in machine
    assert machine["Logging"]["IncludeExecutionData"] is False  # no personal data in the execution logs


def test_every_task_calls_the_lifecycle_function_and_retries_and_catches() -> None:
    definition = _definition(_machine())
    tasks = {name: s for name, s in definition["States"].items() if s["Type"] == "Task"}
    assert tasks
    for name, task in tasks.items():
        assert task["Resource"].startswith("arn:aws:states:::lambda:invoke"), name
        assert task["Parameters"]["FunctionName"] == "${LifecycleFunctionArn}", name
        assert task.get("Retry"), f"{name} has no Retry"
        assert any("States.ALL" in c["ErrorEquals"] for c in task.get("Catch", ())), f"{name} catches not everything"
