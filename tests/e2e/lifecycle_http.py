"""Driving one complaint through the lifecycle over HTTP, as its staff and its complainant would, and reading what
its CaseLifecycle execution did: helpers for the lifecycle path and property tests.

Everything is read per complaint (its reference, its executions), never by counting across the session: other
tests' complaints share the stack.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests

COMPLAINT = {
    "complainant": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "product_or_service": "Current account",
    "description": "I was charged twice for the same card payment and the bank has not refunded the second charge.",
    "remedy_sought": "A refund of the second charge",
    "preferred_contact_channel": "email",
}
LOW = {"severity": "low", "safety_risk": False, "complexity": "simple", "impact": "low", "immediate_action": False,
       "category": "duplicate charge"}
SMALL = {"outcome": "upheld", "reasons": "The second charge was a retry that should not have been taken.",
         "actions_taken": ["Refunded the duplicate charge"],
         "remedies": [{"kind": "monetary", "amount": "42.50", "currency": "GBP"}, {"kind": "apology"}]}
LARGE = {**SMALL, "remedies": [{"kind": "monetary", "amount": "750.00", "currency": "GBP"}]}
REVIEWED = {"outcome": "partly_upheld", "reasons": "On review the refund stands and we add the call charges.",
            "remedies": [{"kind": "monetary", "amount": "50.00", "currency": "GBP"}]}


class Stack:
    """The local stack's HTTP API, its Step Functions (moto) and its clock."""

    def __init__(self, stack: Any) -> None:
        self.stack, self.url = stack, stack.api_url
        self.sfn = boto3.client("stepfunctions", endpoint_url=stack.moto_endpoint, region_name="eu-west-2")
        self.machine = stack.template.state_machines()["CaseLifecycleStateMachine"].arn
        self._tokens: dict[tuple[str, str], str] = {}

    def idle(self) -> None:
        self.stack.wait_until_idle(timeout=90)

    def token(self, role: str, sub: str) -> str:
        if (role, sub) not in self._tokens:
            made = requests.post(f"{self.url}/_local/token", json={"role": role, "sub": sub}, timeout=10)
            made.raise_for_status()
            self._tokens[role, sub] = made.json()["token"]
        return self._tokens[role, sub]

    def advance(self, duration: str) -> None:
        """Move the local clock (as a reader of the README would, over HTTP); the sweep fires on it."""
        self._tokens.clear()  # tokens expire by the same clock
        moved = requests.post(f"{self.url}/_local/clock", json={"advance": duration}, timeout=10)
        assert moved.status_code == 200, moved.text
        self.idle()

    def file(self) -> Complaint:
        filed = requests.post(f"{self.url}/complaints", json=COMPLAINT, timeout=10,
                              headers={"Idempotency-Key": str(uuid.uuid4())})
        assert filed.status_code == 201, filed.text
        body = filed.json()
        self.idle()
        return Complaint(self, body["reference"], body["access_token"])

    # -- the execution --------------------------------------------------------------------------------------------

    def executions(self, reference: str) -> dict[str, dict[str, Any]]:
        """This complaint's executions, by name (``<reference>-v<version>``), oldest first."""
        found, token = [], None
        while True:
            page = self.sfn.list_executions(stateMachineArn=self.machine, **({"nextToken": token} if token else {}))
            found += page["executions"]
            if not (token := page.get("nextToken")):
                break
        mine = [e for e in found if e["name"].startswith(f"{reference}-v")]
        return {e["name"]: e for e in sorted(mine, key=lambda e: int(e["name"].rsplit("-v", 1)[1]))}

    def history(self, execution: dict[str, Any]) -> list[dict[str, Any]]:
        events, token = [], None
        while True:
            page = self.sfn.get_execution_history(executionArn=execution["executionArn"],
                                                  **({"nextToken": token} if token else {}))
            events += page["events"]
            if not (token := page.get("nextToken")):
                return events


def states(events: list[dict[str, Any]]) -> list[str]:
    """The states entered, leaving out the routing and the waiting between them."""
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")
            and e["stateEnteredEventDetails"]["name"] not in ("RouteOnStatus", "AwaitChange")]


def woken_by(events: list[dict[str, Any]]) -> list[str]:
    """The statuses AwaitChange was sent, in order."""
    return [json.loads(e["taskSucceededEventDetails"]["output"])["status"] for e in events
            if e["type"] == "TaskSucceeded" and e["taskSucceededEventDetails"]["resource"] == "invoke.waitForTaskToken"]


def output_of(events: list[dict[str, Any]], state: str) -> list[dict[str, Any]]:
    return [json.loads(e["stateExitedEventDetails"]["output"]) for e in events
            if e["type"].endswith("StateExited") and e["stateExitedEventDetails"]["name"] == state]


def parked(events: list[dict[str, Any]]) -> bool:
    """Waiting in AwaitChange for the case's next change."""
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    return events[-1]["type"] == "TaskSubmitted" and entered[-1] == "AwaitChange"


@dataclass
class Complaint:
    """One complaint, as its staff (role, sub) and its complainant (the access token) act on it."""

    on: Stack
    reference: str
    access_token: str
    last: requests.Response | None = field(default=None, repr=False)

    def staff(self, route: str, role: str, sub: str, body: Any = None) -> requests.Response:
        """POST /staff/cases/{reference}/{route}, and wait for the lifecycle to take the change."""
        self.last = requests.post(f"{self.on.url}/staff/cases/{self.reference}/{route}", json=body, timeout=15,
                                  headers={"Authorization": f"Bearer {self.on.token(role, sub)}"})
        self.on.idle()
        return self.last

    def ok(self, route: str, role: str, sub: str, body: Any = None) -> dict[str, Any]:
        response = self.staff(route, role, sub, body)
        assert response.status_code == 200, (route, role, sub, response.text)
        return response.json()

    def answer(self, accept: bool, reason: str | None = None) -> requests.Response:
        self.last = requests.post(f"{self.on.url}/complaints/{self.reference}/decision-response", timeout=15,
                                  json={"accept": accept, **({"reason": reason} if reason else {})},
                                  headers={"X-Access-Token": self.access_token})
        self.on.idle()
        return self.last

    def case(self, role: str = "auditor", sub: str = "auditor-1") -> dict[str, Any]:
        read = requests.get(f"{self.on.url}/staff/cases/{self.reference}", timeout=10,
                            headers={"Authorization": f"Bearer {self.on.token(role, sub)}"})
        assert read.status_code == 200, read.text
        return read.json()

    def view(self) -> dict[str, Any]:
        """The complainant's own view."""
        read = requests.get(f"{self.on.url}/complaints/{self.reference}", timeout=10,
                            headers={"X-Access-Token": self.access_token})
        assert read.status_code == 200, read.text
        return read.json()

    def actions(self) -> list[str]:
        """The staff timeline's actions, in order."""
        return [e["action"] for e in self.case()["timeline"]]

    def executions(self) -> dict[str, dict[str, Any]]:
        return self.on.executions(self.reference)

    def history(self, name: str | None = None) -> list[dict[str, Any]]:
        runs = self.executions()
        return self.on.history(runs[name] if name else list(runs.values())[-1])

    def to_investigation(self, owner: str = "handler-1") -> None:
        self.ok("assessment", "handler", owner, LOW)
        self.ok("investigation", "handler", owner, {"owner": owner})
