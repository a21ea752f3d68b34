"""Complainant endpoints (public, throttled): file a complaint, see its status, add information, how to complain."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from amends import wiring
from amends.api import idempotency, problems
from amends.api.cors import cors_config, vary_on_origin
from amends.api.openapi import COMPLAINANT, SECURITY_SCHEMES, responses
from amends.api.params import NO_STORE, Reference, serialize
from amends.api.schemas.public import (
    ComplainantCaseView,
    ComplaintRequest,
    DecisionResponded,
    DecisionResponseRequest,
    FiledComplaint,
    MessageAdded,
    MessageRequest,
    NextStepView,
    ProcessInformation,
    complainant_view,
)
from amends.domain.lifecycle import STATUS_DESCRIPTIONS
from amends.domain.model import Case, Channel, Submission
from amends.observability import logger, tracer
from amends.services import complainant, intake
from amends.services.process import process_information
from amends.settings import get_clock, get_settings
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import (
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

CORS = cors_config()  # from ALLOWED_ORIGINS, at import: Powertools needs it before the routes register
app = APIGatewayRestResolver(enable_validation=True, response_validation_error_http_code=500, cors=CORS,
                             serializer=serialize)
problems.install(app)
idempotency.install(app)
app.configure_openapi(title="Amends complainant API", security_schemes=SECURITY_SCHEMES)

AccessToken = Annotated[str | None, Header(alias="X-Access-Token", max_length=200,
                                           description="The secret access token given when the complaint was filed.")]


@app.post(
    "/complaints",
    summary="File a complaint",
    description="Records the complaint, gives it a reference and a secret access token, and starts its handling. "
                "Send an Idempotency-Key (e.g. a UUID) so a retried request never files the complaint twice.",
    responses=responses(201, "Filed: the reference, the secret access token (shown once) and the status URL", {
        409: "The same request (Idempotency-Key) is still being processed",
        422: "Missing or invalid fields, or an Idempotency-Key reused for another body"}, json_body=True),
    tags=["Complainants"],
)
def file_complaint(
    request: Annotated[ComplaintRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255,
                                                  description="Makes retries safe: same key and body, same answer.")] = None,
) -> Response[FiledComplaint]:
    payload = {"key": idempotency_key, "submission": request.model_dump(mode="json")}
    body = _intake()(request=payload) if idempotency_key else _file(payload)
    filed = FiledComplaint.model_validate({**body, "status_url": _status_url(body["reference"])})
    return Response(201, content_type="application/json", body=filed, headers={**NO_STORE, "Location": filed.status_url})


def _file(payload: dict[str, Any]) -> dict[str, Any]:
    submission = dict(payload["submission"])
    channel = Channel(submission.pop("channel"))
    once = intake.Once(payload["key"], wiring.filing_requests()) if payload["key"] else None
    filed = intake.file_complaint(
        Submission.model_validate(submission), channel,
        repo=wiring.case_repository(), clock=get_clock(), settings=get_settings(), once=once,
    )
    logger.info("complaint filed", extra={"reference": filed.case.reference, "channel": channel.value})
    return {
        "reference": filed.case.reference, "access_token": filed.access_token, "status": filed.case.status.value,
        "received_at": filed.case.received_at.isoformat(),
        "received_at_local": filed.case.received_at_local.isoformat(),
        "response_due_by": filed.response_due_by.isoformat(),
    }


_idempotency_config = IdempotencyConfig(
    event_key_jmespath="key", payload_validation_jmespath="submission", expires_after_seconds=24 * 3600,
)


@cache
def _intake():  # noqa: ANN202 - built on first use so settings are read at invocation, not import
    store = wiring.idempotency_store()
    return idempotent_function(data_keyword_argument="request", config=_idempotency_config,
                               persistence_store=store)(lambda request: _file(request))


def _status_url(reference: str) -> str:
    """Absolute URL of the status endpoint, as the caller reached us (stage prefix only on execute-api hosts)."""
    headers = app.current_event.headers
    host = headers.get("host") or headers.get("Host")
    if not host:
        return f"/complaints/{reference}"
    proto = headers.get("x-forwarded-proto") or headers.get("X-Forwarded-Proto") or "https"
    stage = app.current_event.request_context.stage
    prefix = f"/{stage}" if ".execute-api." in host and stage else ""
    return f"{proto}://{host}{prefix}/complaints/{reference}"


@app.get(
    "/complaints/<reference>",
    summary="See a complaint's status and history",
    description="Needs the access token given when the complaint was filed. Without it, or with another "
                "complaint's token, the answer is the same as for an unknown reference. next_step says what "
                "happens next and by when; decision is our decision once sent, with the recourse.",
    responses=responses(200, "The complaint's status and history", {
        404: "Unknown reference, or wrong or missing access token", 422: "A reference or token of impossible length"}),
    tags=["Complainants"], security=[{COMPLAINANT: []}],
)
def complaint_status(reference: Reference, x_access_token: AccessToken = None) -> Response[ComplainantCaseView]:
    record = complainant.view_case(reference, x_access_token, repo=wiring.case_repository())
    settings = get_settings()
    view = complainant_view(record.case, record.timeline, intake.response_due_by(record.case, settings),
                            _next_step(record.case))
    return Response(200, content_type="application/json", body=view, headers=NO_STORE)


@app.post(
    "/complaints/<reference>/messages",
    summary="Add information to a complaint",
    responses=responses(201, "Added", {
        404: "Unknown reference, or wrong or missing access token",
        409: "The complaint is closed, or was changed at the same time", 422: "Missing or invalid fields"}, json_body=True),
    tags=["Complainants"], security=[{COMPLAINANT: []}],
)
def add_message(
    reference: Reference, request: Annotated[MessageRequest, Body()], x_access_token: AccessToken = None,
) -> Response[MessageAdded]:
    case, entry = complainant.add_message(reference, x_access_token, request.message,
                                          repo=wiring.case_repository(), clock=get_clock())
    added = MessageAdded(reference=case.reference, seq=entry.seq, at=entry.at, status=case.status)
    return Response(201, content_type="application/json", body=added, headers=NO_STORE)


def _next_step(case: Case) -> NextStepView:
    return NextStepView.model_validate(complainant.next_step(case, get_settings()).model_dump())


@app.post(
    "/complaints/<reference>/decision-response",
    summary="Accept or reject our decision",
    description="Accepting closes the complaint. Rejecting (with your reason) after our first decision starts an "
                "internal review by someone who took no part in it; after the review's final decision, it closes "
                "the complaint with your answer recorded, and you can go to the external body within its time limit.",
    responses=responses(200, "Recorded: where the complaint stands now and what happens next", {
        404: "Unknown reference, or wrong or missing access token",
        409: "There is no decision waiting for your answer (wrong-state, with status_now), or the complaint was "
             "changed at the same time",
        422: "Missing or invalid fields: a rejection needs a reason"}, json_body=True),
    tags=["Complainants"], security=[{COMPLAINANT: []}],
)
def answer_decision(
    reference: Reference, request: Annotated[DecisionResponseRequest, Body()], x_access_token: AccessToken = None,
) -> Response[DecisionResponded]:
    case = complainant.answer_decision(reference, x_access_token, accept=request.accept, reason=request.reason,
                                       repo=wiring.case_repository(), clock=get_clock(), settings=get_settings())
    answered = DecisionResponded(reference=case.reference, status=case.status,
                                 status_description=STATUS_DESCRIPTIONS[case.status], next_step=_next_step(case))
    return Response(200, content_type="application/json", body=answered, headers=NO_STORE)


@app.get("/process", summary="How to complain", tags=["Complainants"], responses=responses(200, "How to complain"),
         description="What to provide, the time frames we work to, how to follow a complaint, and where to go "
                     "if you are not satisfied (ISO 10002 7.1).")
def process() -> ProcessInformation:
    return ProcessInformation.model_validate(process_information(get_settings()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _idempotency_config.register_lambda_context(context)
    return vary_on_origin(app.resolve(event, context), CORS)
