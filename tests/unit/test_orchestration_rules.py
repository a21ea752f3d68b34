"""More lifecycle callback rules: a token kept again by the same generation is no supersession, and an execution is
woken with its own case's next status change, never another case's."""

from __future__ import annotations

from amends.services import orchestration
from amends.services.orchestration import StatusChange

from .test_orchestration import StepFunctions, Tokens

REF, OTHER = "CMP-2026-7K3F9Q", "CMP-2026-AAAAAA"


class Timelines:
    """Status changes by version, for each case."""

    def __init__(self, changes: dict[str, dict[int, str]]) -> None:
        self.changes = changes

    def next_status_change(self, reference: str, after_version: int) -> StatusChange | None:
        later = sorted(v for v in self.changes.get(reference, {}) if v > after_version)
        return StatusChange(later[0], self.changes[reference][later[0]]) if later else None


def test_the_same_generation_arming_again_is_not_told_it_is_superseded() -> None:
    tokens, sfn = Tokens(), StepFunctions()
    ports = {"tokens": tokens, "history": Timelines({REF: {1: "received", 2: "acknowledged"}}), "callbacks": sfn}
    assert orchestration.arm(REF, sfn.task("t1", version=2), **ports) is None
    assert orchestration.arm(REF, sfn.task("t2", version=2), **ports) is None  # AwaitChange retried: a new token
    assert sfn.sent == [] and tokens.get(REF).token == "t2"


def test_an_execution_is_woken_with_its_own_cases_next_change() -> None:
    tokens, sfn = Tokens(), StepFunctions()
    history = Timelines({REF: {2: "acknowledged", 3: "assessed"}, OTHER: {2: "acknowledged", 3: "closed"}})
    woke = orchestration.arm(REF, sfn.task("t1", version=2), tokens=tokens, history=history, callbacks=sfn)
    assert woke == StatusChange(3, "assessed")
    assert sfn.sent == [("t1", {"status": "assessed", "version": 3})]
