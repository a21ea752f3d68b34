"""Staff endpoints (Cognito-authorised): queues, the full case record, assignment, internal notes, and the steps of
the ISO 10002 lifecycle (7.5-7.9), each one service call."""

from __future__ import annotations

from typing import Annotated, Any

from amends import wiring
from amends.api import problems
from amends.api.problems import ProblemError
from amends.api.cors import cors_config, vary_on_origin
from amends.api.auth import staff_actor
from amends.api.openapi import SECURITY_SCHEMES, STAFF, responses
from amends.api.params import NO_STORE, Reference, serialize
from amends.api.schemas.files import CaseFiles, FileLink
from amends.api.schemas.mail import DiscardRequest, MailList, MailSummary, ReleasedMail
from amends.api.schemas.replies import StaffReplyRequest, StaffReplySent
from amends.api.schemas.sla import SlaView
from amends.api.schemas.staff import AssignOwnerRequest, CaseDetail, CaseList, CaseSummary, NoteRequest
from amends.api.schemas.staff_lifecycle import (
    ApprovalRequest,
    AssessmentRequest,
    CaseState,
    ClosureRequest,
    InformationRequestRequest,
    InvestigationRequest,
    LinkRequest,
    ProposalRequest,
    ReopeningRequest,
    ReviewRequest,
)
from amends.domain.handling import ClosureReason, Findings, LinkRelation, ResponseContent
from amends.domain.lifecycle import Status
from amends.domain.mail_log import MailOutcome
from amends.domain.model import Actor, Case, Priority, TimelineEntry
from amends.observability import logger, tracer
from amends.services import case_files, decision, handling, intake, quarantine, replies, sla, staff, staff_replies
from amends.services.ports import CaseQuery, MailQuery
from amends.settings import get_clock, get_settings
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
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


MailId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$",
                             description="The ses_message_id of a mail-log entry (GET /staff/mail).")]


@app.post("/staff/mail/<ses_message_id>/release", summary="Release a quarantined message: process it again",
          tags=["Staff"], security=SECURED,
          description="For a supervisor, a manager or an admin who judges the message genuine: it is processed again "
                      "with SES's spam, virus and DMARC verdicts set aside, and usually becomes a case or joins one. "
                      "Its entry becomes released (by whom, into what); what it became has an entry of its own.",
          responses=responses(200, "Released, with what it became", {
              404: "No such message in the mail log",
              409: "Not in quarantine (already released or discarded, or never quarantined), or it still cannot "
                   "become a case", 422: "An id of impossible form"}, staff=True))
def release_mail(ses_message_id: MailId) -> ReleasedMail:
    actor = _actor()
    desk = replies.MailDesk(store=wiring.sent_mail(), repo=wiring.case_repository())
    released, result = quarantine.release(ses_message_id, actor, mail_log=wiring.mail_log(), raw_mail=wiring.raw_mail(),
                                          clock=get_clock(), settings=get_settings(), desk=desk,
                                          files=wiring.attachments())
    logger.info("quarantine released", extra={"audit": "mail_released", "ses_message_id": ses_message_id,
                                              "actor": actor.id, "outcome": result.outcome.value})
    return ReleasedMail(released=MailSummary.of(released), result=MailSummary.of(result))


@app.post("/staff/mail/<ses_message_id>/discard", summary="Discard a quarantined message", tags=["Staff"],
          security=SECURED,
          description="For a supervisor, a manager or an admin: the entry becomes discarded, with who and why, and "
                      "stays in the mail log; the raw message expires with the raw-mail bucket's lifecycle.",
          responses=responses(200, "Discarded", {
              404: "No such message in the mail log", 409: "Not in quarantine",
              422: "A reason that is too long, or an id of impossible form"}, staff=True, json_body=True))
def discard_mail(ses_message_id: MailId, request: Annotated[DiscardRequest, Body()]) -> MailSummary:
    actor = _actor()
    entry = quarantine.discard(ses_message_id, actor, request.reason, mail_log=wiring.mail_log(), clock=get_clock())
    logger.info("quarantine discarded", extra={"audit": "mail_discarded", "ses_message_id": ses_message_id,
                                               "actor": actor.id})
    return MailSummary.of(entry)


@app.get("/staff/cases/<reference>", summary="Read one case with its full timeline", tags=["Staff"],
         security=SECURED, description="With allowed_actions: what you (your user and roles) may do to the case now.",
         responses=responses(200, "The case, its full timeline and the actions you may take now", {
             404: "Unknown reference", 422: "A reference of impossible length"}, staff=True))
def get_case(reference: Reference) -> Response[CaseDetail]:
    actor = _actor()
    view = staff.read_case(reference, actor, repo=wiring.case_repository(), clock=get_clock())
    record = view.record
    # Confidentiality: every staff read of personal data leaves a trace.
    logger.info("staff read case", extra={"audit": "case_read", "reference": record.case.reference,
                                          "actor": actor.id, "roles": [r.value for r in actor.roles]})
    detail = CaseDetail.of(record.case, record.timeline, intake.response_due_by(record.case, get_settings()),
                           view.allowed_actions)
    return Response(200, content_type="application/json", body=detail, headers=NO_STORE)


@app.get("/staff/cases/<reference>/attachments", summary="The case's files, each with a download link",
         tags=["Staff"], security=SECURED,
         description="Files the complainant sent by email (name, type, size, SHA-256), each with a link that "
                     "downloads it under its name for a few minutes; and those their email carried that were not kept.",
         responses=responses(200, "The files and their links", {404: "Unknown reference",
                                                               422: "A reference of impossible length"}, staff=True))
def list_files(reference: Reference) -> Response[CaseFiles]:
    actor = _actor()
    case, links = case_files.files_with_links(reference, repo=wiring.case_repository(), store=wiring.attachments())
    logger.info("staff listed files", extra={"audit": "files_listed", "reference": case.reference, "actor": actor.id})
    body = CaseFiles(reference=case.reference, files=[FileLink.of(f, url, case_files.LINK_SECONDS) for f, url in links],
                     left_out=list(case.files_left_out))
    return Response(200, content_type="application/json", body=body, headers=NO_STORE)


@app.get("/staff/cases/<reference>/attachments/<sha256>", summary="Download one of the case's files",
         tags=["Staff"], security=SECURED,
         description="A redirect (302) to a link that downloads the file under its name; the link works for a few "
                     "minutes.",
         responses=responses(302, "Follow Location to download the file", {
             404: "Unknown reference, or no such file on the case", 422: "Not a SHA-256"}, staff=True))
def download_file(reference: Reference, sha256: Annotated[str, Path(pattern=r"^[0-9a-fA-F]{64}$",
                                                                      description="The file's SHA-256.")]) -> Response[None]:
    actor = _actor()
    file, url = case_files.link_to(reference, sha256, repo=wiring.case_repository(), store=wiring.attachments())
    logger.info("staff downloaded a file", extra={"audit": "file_downloaded", "reference": reference.upper(),
                                                  "sha256": file.sha256, "actor": actor.id})
    return Response(302, headers={"Location": url, **NO_STORE})


@app.get("/staff/cases/<reference>/sla", summary="The case's deadlines: every milestone and why it stands there",
         tags=["Staff"], security=SECURED,
         description="Each milestone of the policy the case was opened under: due at, met at, the time used, paused "
                     "intervals, and one sentence saying why it is on time, at risk or breached; with the policy and "
                     "calendar versions used.",
         responses=responses(200, "The case's milestones", {
             404: "Unknown reference, or a case stored before SLA policies (it has only response_due_by)",
             422: "A reference of impossible length"}, staff=True))
def get_sla(reference: Reference) -> Response[SlaView]:
    _actor()
    try:
        report = sla.report(reference, repo=wiring.case_repository(), clock=get_clock())
    except sla.NoSla as missing:
        raise ProblemError(404, "no-sla", "No SLA recorded for this complaint",
                           f"Complaint {missing} was received before SLA policies were recorded on cases; its only "
                           f"deadline is the response_due_by on GET /staff/cases/{missing}.") from None
    return Response(200, content_type="application/json", body=SlaView.of(report), headers=NO_STORE)


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


# -- the lifecycle (ISO 10002 7.5-7.9) -------------------------------------------------------------------------------
# Each route answers the case as it stands after the step, with what the caller may do next. A step the case's state
# does not allow is a 409 naming the status and the caller's allowed actions; a role that may not take it, a 403.

WRONG_STEP = "Not possible in the case's state now (wrong-state, with status_now and allowed_actions), or changed " \
             "by someone else at the same time (concurrent-update)"
UNKNOWN = "Unknown reference"
INVALID = "Missing or invalid fields (invalid-request), or a reason that is empty or too long (reason-required)"


def _step(description: str, errors: dict[int, str], *, json_body: bool = True) -> dict:
    return responses(200, description, {404: UNKNOWN, 409: WRONG_STEP, 422: INVALID, **errors}, staff=True,
                     json_body=json_body)


def _state(case: Case, actor: Actor) -> CaseState:
    return CaseState.of(case, handling.allowed_actions(case, actor, clock=get_clock()))


@app.post("/staff/cases/<reference>/replies", summary="Reply to the complainant by email", tags=["Staff"],
          security=SECURED,
          description="Sends the text to the complainant (or their representative) as an email threaded into their "
                      "conversation, with the reference in the subject and the case's reply address; records it on "
                      "the timeline and shows it on the complainant's status page. Their answer comes back to the case.",
          responses=responses(201, "Sent and recorded", {
              403: "Your role may not do this (auditors are read-only)", 404: "Unknown reference",
              409: "Not sent (reply-not-sent): no email address, no consent to contact, or the address is "
                   "undeliverable", 422: "Missing or invalid fields"}, json_body=True, staff=True))
def send_reply(reference: Reference, request: Annotated[StaffReplyRequest, Body()]) -> Response[StaffReplySent]:
    case, entry, mail, message_id = staff_replies.send_reply(
        reference, request.text, _actor(), repo=wiring.case_repository(), mailer=wiring.outbound(),
        threads=wiring.sent_mail(), clock=get_clock(), settings=get_settings())
    sent = StaffReplySent(reference=case.reference, seq=entry.seq, at=entry.at, to=mail.to, subject=mail.subject,
                          message_id=message_id, in_reply_to=mail.in_reply_to)
    return Response(201, content_type="application/json", body=sent, headers=NO_STORE)


@app.post("/staff/cases/<reference>/assessment", summary="Assess a complaint (7.5)", tags=["Lifecycle"],
          security=SECURED, responses=_step("Assessed; the priority follows from the findings", {}),
          description="Severity, safety risk, complexity, impact, whether immediate action is needed, and a category. "
                      "The priority follows from them by the priority rules; a safety risk makes the case urgent at "
                      "once (UrgentCaseFlagged).")
def assess(reference: Reference, request: Annotated[AssessmentRequest, Body()]) -> CaseState:
    actor = _actor()
    findings = Findings.model_validate(request.model_dump())
    return _state(handling.assess(reference, findings, actor, repo=wiring.case_repository(), clock=get_clock(),
                                  settings=get_settings()), actor)


@app.post("/staff/cases/<reference>/investigation", summary="Start the investigation (7.6)", tags=["Lifecycle"],
          security=SECURED, description="Needs an accountable owner: the case's, or one named here (who is then "
                                        "assigned; a handler may name only themselves).",
          responses=_step("Investigating", {
              403: "Your role may not do this, or a handler named someone else as owner",
              422: f"{INVALID}; or the case has no owner and none is named (owner-required)"}))
def start_investigation(reference: Reference, request: Annotated[InvestigationRequest, Body()]) -> CaseState:
    actor = _actor()
    return _state(handling.start_investigation(reference, actor, owner=request.owner, repo=wiring.case_repository(),
                                               clock=get_clock()), actor)


@app.post("/staff/cases/<reference>/information-requests", summary="Ask the complainant for information (7.6)",
          tags=["Lifecycle"], security=SECURED, responses=_step("Awaiting the complainant", {}),
          description="The case waits for the complainant (the time taken pauses); their next message resumes it.")
def request_information(reference: Reference, request: Annotated[InformationRequestRequest, Body()]) -> CaseState:
    actor = _actor()
    return _state(handling.request_information(reference, request.question, actor, repo=wiring.case_repository(),
                                               clock=get_clock()), actor)


@app.post("/staff/cases/<reference>/links", summary="Link a related complaint, or merge a duplicate (7.6)",
          tags=["Lifecycle"], security=SECURED,
          description="related: both complaints link to each other. duplicate_of: this complaint is closed as a "
                      "duplicate and merged into the other; both timelines say so and its complainant is told "
                      "where it went.",
          responses=_step("Linked (this complaint, closed if it was merged)", {
              422: f"{INVALID}; or the complaints cannot be linked (invalid-link: the same one, already linked, "
                   f"unknown, or a closed one to merge into)"}))
def link(reference: Reference, request: Annotated[LinkRequest, Body()]) -> CaseState:
    actor = _actor()
    return _state(handling.link(reference, request.reference, LinkRelation(request.relation), actor,
                                repo=wiring.case_repository(), clock=get_clock(), settings=get_settings()), actor)


@app.post("/staff/cases/<reference>/proposal", summary="Propose the response (7.7)", tags=["Lifecycle"],
          security=SECURED, responses=_step("Proposed; allowed_actions says whether it needs approval first", {}),
          description="Outcome, reasons, actions taken and remedies. Money above the approval threshold, or a "
                      "complaint assessed as high or critical, needs approval by a supervisor or manager who did not "
                      "propose it (four eyes) before the decision can be sent.")
def propose(reference: Reference, request: Annotated[ProposalRequest, Body()]) -> CaseState:
    actor = _actor()
    content = ResponseContent.model_validate(request.model_dump())
    return _state(decision.propose_response(reference, content, actor, repo=wiring.case_repository(),
                                            clock=get_clock(), settings=get_settings()), actor)


@app.post("/staff/cases/<reference>/proposal/approval", summary="Approve or return the proposed response (7.7)",
          tags=["Lifecycle"], security=SECURED,
          description="A supervisor or manager who did not propose it approves it, or returns it to the "
                      "investigation with a reason.",
          responses=_step("Approved, or returned to the investigation", {
              403: "Only a supervisor or manager may approve or return (forbidden); you proposed it, so someone "
                   "else must approve it (four-eyes-required)"}))
def answer_proposal(reference: Reference, request: Annotated[ApprovalRequest, Body()]) -> CaseState:
    actor = _actor()
    return _state(decision.answer_proposal(reference, request.approve, request.reason, actor,
                                           repo=wiring.case_repository(), clock=get_clock()), actor)


@app.post("/staff/cases/<reference>/decision", summary="Communicate the decision (7.8)", tags=["Lifecycle"],
          security=SECURED,
          description="Sends the proposed response as the decision, with the recourse: an internal review, and the "
                      "external body with its time limit. The complainant's answer is due within the reply window.",
          responses=_step("Communicated; reply_due_at says by when the complainant should answer", {
              409: f"{WRONG_STEP}; or the proposed response needs approval first (approval-required)",
              422: "A reference of impossible length"}, json_body=False))
def communicate_decision(reference: Reference) -> CaseState:
    actor = _actor()
    return _state(decision.communicate_decision(reference, actor, repo=wiring.case_repository(), clock=get_clock(),
                                                settings=get_settings()), actor)


@app.post("/staff/cases/<reference>/review", summary="Conclude the internal review (7.9)", tags=["Lifecycle"],
          security=SECURED,
          description="The review's outcome is communicated as the final decision, with the external recourse. Only "
                      "a supervisor or manager who took no part in the complaint (not its owner, proposer, approver "
                      "or decider) may conclude it.",
          responses=_step("Concluded: the final decision is communicated", {
              403: "Only a supervisor or manager may conclude a review (forbidden); you took part in the complaint "
                   "(not-uninvolved)"}))
def conclude_review(reference: Reference, request: Annotated[ReviewRequest, Body()]) -> CaseState:
    actor = _actor()
    content = ResponseContent.model_validate(request.model_dump())
    return _state(decision.conclude_review(reference, content, actor, repo=wiring.case_repository(),
                                           clock=get_clock(), settings=get_settings()), actor)


@app.post("/staff/cases/<reference>/closure", summary="Close a complaint (7.9)", tags=["Lifecycle"],
          security=SECURED, description="With a reason from the list; it can be reopened within the reopen window.",
          responses=_step("Closed", {}))
def close(reference: Reference, request: Annotated[ClosureRequest, Body()]) -> CaseState:
    actor = _actor()
    return _state(handling.close(reference, ClosureReason(request.reason), actor, note=request.note,
                                 repo=wiring.case_repository(), clock=get_clock(), settings=get_settings()), actor)


@app.post("/staff/cases/<reference>/reopening", summary="Reopen a closed complaint (7.9)", tags=["Lifecycle"],
          security=SECURED,
          description="Within the reopen window after closure, back to the investigation, with an accountable owner "
                      "(one named here, else the case's, else you). After the window, file a new complaint quoting "
                      "this one.",
          responses=_step("Reopened: investigating", {
              403: "Your role may not do this",
              409: f"{WRONG_STEP}; or the reopen window has ended (reopen-window-closed)"}))
def reopen(reference: Reference, request: Annotated[ReopeningRequest, Body()]) -> CaseState:
    actor = _actor()
    return _state(handling.reopen(reference, request.reason, actor, owner=request.owner,
                                  repo=wiring.case_repository(), clock=get_clock()), actor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return vary_on_origin(app.resolve(event, context), CORS)
