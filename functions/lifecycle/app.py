"""Steps of the case lifecycle state machine. Domain errors keep their class names so the state machine's
Retry/Catch can tell them apart (ConcurrentUpdate is retried; ActionNotAllowed means the case moved on)."""

from __future__ import annotations

from typing import Any

from amends import wiring
from amends.observability import logger, tracer
from amends.services import lifecycle, orchestration
from amends.settings import get_clock
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict


class StepRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    step: str
    case_reference: str
    execution: str | None = None
    # AwaitChange only: the token to keep, the last status change acted on, the generation of the execution.
    task_token: str | None = None
    version: int | None = None
    generation: int | None = None


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = StepRequest.model_validate(event)
    logger.append_keys(reference=request.case_reference, step=request.step)
    if request.step == lifecycle.AWAIT:
        return await_change(request)
    if request.step in lifecycle.CHANGING_STEPS:
        case = lifecycle.take_step(request.case_reference, request.step, execution=request.execution,
                                   repo=wiring.case_repository(), clock=get_clock())
        return {"case_reference": case.reference, "status": case.status.value, "version": case.version}
    return lifecycle.work_out(request.case_reference, request.step, repo=wiring.case_repository())


def await_change(request: StepRequest) -> dict[str, Any]:
    if request.task_token is None or request.version is None or request.generation is None:
        raise ValueError("the await step needs task_token, version and generation (see the state machine)")
    waiting = orchestration.Waiting(token=request.task_token, version=request.version,
                                    generation=request.generation, execution=request.execution or "")
    woke = orchestration.arm(request.case_reference, waiting, tokens=wiring.execution_tokens(),
                             history=wiring.status_history(), callbacks=wiring.task_callbacks())
    logger.info("awaiting a change" if woke is None else "the case had moved on",
                extra={"version": request.version, "sent": woke.output() if woke else None})
    return {"waiting": woke is None}
