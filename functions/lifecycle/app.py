"""Steps of the case lifecycle state machine. Domain errors keep their class names so the state machine's
Retry/Catch can tell them apart (ConcurrentUpdate is retried; ActionNotAllowed means the case moved on)."""

from __future__ import annotations

from typing import Any

from amends import wiring
from amends.observability import logger, tracer
from amends.services import lifecycle
from amends.settings import get_clock
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict


class StepRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    step: str
    case_reference: str
    execution: str | None = None


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = StepRequest.model_validate(event)
    logger.append_keys(reference=request.case_reference, step=request.step)
    case = lifecycle.take_step(request.case_reference, request.step, execution=request.execution,
                               repo=wiring.case_repository(), clock=get_clock())
    return {"case_reference": case.reference, "status": case.status.value, "version": case.version}
