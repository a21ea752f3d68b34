"""Staff endpoints (Cognito-authorised): queues, the full case record, assignment, internal notes."""

from __future__ import annotations

from typing import Annotated, Any

from amends import wiring
from amends.api import problems
from amends.api.cors import cors_config, vary_on_origin
from amends.api.auth import staff_actor
from amends.api.openapi import SECURITY_SCHEMES, STAFF, responses
from amends.api.params import NO_STORE, Reference, serialize
from amends.api.schemas.mail import MailList, MailSummary
from amends.api.schemas.staff import AssignOwnerRequest, CaseDetail, CaseList, CaseSummary, NoteRequest
from amends.domain.lifecycle import Status
from amends.domain.mail_log import MailOutcome
from amends.domain.model import Actor, Priority, TimelineEntry
from amends.observability import logger, tracer
from amends.services import intake, staff
from amends.services.ports import CaseQuery, MailQuery
from amends.settings import get_clock, get_settings
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

CORS = cors_config()  # from ALLOWED_ORIGINS, at import: Powertools needs it before the routes register
app = APIGatewayRestResolver(enable_validation=True, response_validation_error_http_code=500, cors=CORS,
                             serializer=serialize)
problems.install(app)
app.configure_openapi(title="Amends staff API", security_schemes=SECURITY_SCHEMES)

SECURED = [{STAFF: []}]


def _actor() -> Actor:
    return staff_actor(app.current_event.request_context.authorizer.claims)


@app.get("/staff/cases", summary="List cases (queues)", tags=["Staff"], security=SECURED,
         responses=responses(200, "A page of cases", {400: "The page cursor was altered", 422: "An invalid filter"},
                             staff=True),
         description="Filter by status, owner and priority; newest first without a status, by priority then age "
                     "within a status. Follow next_cursor for more.")
def list_cases(
    status: Annotated[Status | None, Query()] = None,
    owner: Annotated[str | None, Query(max_length=128)] = None,
    priority: Annotated[Priority | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> CaseList:
    _actor()
    page = staff.list_cases(CaseQuery(status=status, owner=owner, priority=priority, limit=limit, cursor=cursor),
                            repo=wiring.case_repository())
    return CaseList(items=[CaseSummary.of(c) for c in page.items], next_cursor=page.next_cursor)


@app.get("/staff/mail", summary="List inbound email and what became of it", tags=["Staff"], security=SECURED,
         responses=responses(200, "A page of inbound messages", {400: "The page cursor was altered",
                                                                 422: "An invalid filter"}, staff=True),
         description="Every message that reached the inbox, newest first: the case it made (or is a duplicate of), "
                     "or why it made none, and the key of its raw message. Filter by outcome; follow next_cursor.")
def list_mail(
    outcome: Annotated[MailOutcome | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> MailList:
    _actor()
    page = staff.list_mail(MailQuery(outcome=outcome, limit=limit, cursor=cursor), mail_log=wiring.mail_log())
    return MailList(items=[MailSummary.of(e) for e in page.items], next_cursor=page.next_cursor)


@app.get("/staff/cases/<reference>", summary="Read one case with its full timeline", tags=["Staff"],
         security=SECURED, responses=responses(200, "The case and its full timeline", {
             404: "Unknown reference", 422: "A reference of impossible length"}, staff=True))
def get_case(reference: Reference) -> Response[CaseDetail]:
    actor = _actor()
    record = staff.get_case(reference, repo=wiring.case_repository())
    # Confidentiality: every staff read of personal data leaves a trace.
    logger.info("staff read case", extra={"audit": "case_read", "reference": record.case.reference,
                                          "actor": actor.id, "roles": [r.value for r in actor.roles]})
    detail = CaseDetail.of(record.case, record.timeline, intake.response_due_by(record.case, get_settings()))
    return Response(200, content_type="application/json", body=detail, headers=NO_STORE)


@app.put("/staff/cases/<reference>/owner", summary="Assign an accountable owner", tags=["Staff"],
         security=SECURED,
         description="Supervisors, managers and admins assign anyone; a handler may take a case for themselves.",
         responses=responses(200, "Assigned", {
             404: "Unknown reference", 409: "The case is closed, or was changed at the same time",
             422: "Missing or invalid fields, or a reason is required"}, staff=True, json_body=True))
def assign_owner(reference: Reference, request: Annotated[AssignOwnerRequest, Body()]) -> CaseSummary:
    case = staff.assign_owner(reference, request.owner, _actor(), reason=request.reason,
                              repo=wiring.case_repository(), clock=get_clock())
    return CaseSummary.of(case)


@app.post("/staff/cases/<reference>/notes", summary="Add an internal note", tags=["Staff"], security=SECURED,
          description="Internal notes are never shown to the complainant.",
          responses=responses(201, "Added", {
              404: "Unknown reference", 409: "The case is closed, or was changed at the same time",
              422: "Missing or invalid fields"}, staff=True, json_body=True))
def add_note(reference: Reference, request: Annotated[NoteRequest, Body()]) -> Response[TimelineEntry]:
    entry = staff.add_note(reference, request.body, _actor(), repo=wiring.case_repository(), clock=get_clock())
    return Response(201, content_type="application/json", body=entry)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return vary_on_origin(app.resolve(event, context), CORS)
