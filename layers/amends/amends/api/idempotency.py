"""Problems for Idempotency-Key errors, installed only by the functions that make routes idempotent: importing
Powertools' idempotency exceptions loads its whole idempotency package (about 10 ms of a cold start)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from amends.api.problems import problem
from amends.domain.errors import RequestKeyReused


def install(app: ApiGatewayResolver) -> None:
    """Map Powertools' idempotency errors to problem+json on ``app`` (after :func:`amends.api.problems.install`)."""

    # Powertools' check while it holds the first answer, and the filing's own record of the key (services.intake)
    @app.exception_handler([IdempotencyValidationError, RequestKeyReused])
    def _key_reused(error: IdempotencyValidationError | RequestKeyReused) -> Response:
        return problem(422, "idempotency-key-reused", "Idempotency-Key already used for another request",
                       RequestKeyReused.MESSAGE, instance=app.current_event.path)

    @app.exception_handler(IdempotencyAlreadyInProgressError)
    def _in_progress(error: IdempotencyAlreadyInProgressError) -> Response:
        return problem(409, "request-in-progress", "The same request is still being processed",
                       "A request with this Idempotency-Key is being processed right now. Wait a second and "
                       "send it again to get its answer.", instance=app.current_event.path, headers={"Retry-After": "1"})
