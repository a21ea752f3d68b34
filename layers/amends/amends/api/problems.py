"""RFC 9457 problem details: the one place where errors become HTTP answers.

Each API function calls :func:`install` on its resolver (and :func:`amends.api.idempotency.install` if it has
idempotent routes). Every answer says what went wrong and what the caller can do about it; none leaks internals.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import BaseModel, ConfigDict, Field

from amends.domain.errors import (
    ActionNotAllowed,
    AttachmentNotFound,
    ApprovalRequired,
    CaseNotFound,
    ConcurrentUpdate,
    DetailsRequired,
    Forbidden,
    FourEyesRequired,
    InvalidCursor,
    InvalidLink,
    MailNotFound,
    NotQuarantined,
    NotUninvolved,
    OwnerRequired,
    ReasonRequired,
    ReleaseRefused,
    ReopenWindowClosed,
    ReplyNotSent,
)

PROBLEM_BASE = "https://amends.dev/problems/"
CONTENT_TYPE = "application/problem+json"

logger = Logger(child=True)


class ProblemError(Exception):
    """Raised by edge code (headers, auth) for an answer that is not a domain error."""

    def __init__(self, status: int, slug: str, title: str, detail: str, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.headers = headers or {}
        self.extra = extra


class FieldError(BaseModel):
    field: str = Field(description="Where in the request, e.g. complainant.email or query.limit.")
    message: str = Field(description="What is wrong with it.")


class Problem(BaseModel):
    """RFC 9457 problem details: every error answer of the API, ours and API Gateway's own."""

    model_config = ConfigDict(extra="allow")  # RFC 9457: clients ignore extension members they do not know

    type: str = Field(description="URI naming the kind of problem, under https://amends.dev/problems/.")
    title: str = Field(description="Short summary of the kind of problem.")
    status: int | None = Field(default=None, description="The HTTP status. Absent from API Gateway's generic "
                                                         "answers (DEFAULT_4XX/5XX), which cannot know it.")
    detail: str = Field(description="What went wrong with this request and what to do about it.")
    instance: str | None = Field(default=None, description="The path the request was sent to.")
    errors: list[FieldError] | None = Field(default=None, description="invalid-request: each field at fault.")
    request_id: str | None = Field(default=None, description="Quote it when contacting us (500, API Gateway's "
                                                             "own answers).")
    status_now: str | None = Field(default=None, description="wrong-state and its kinds (approval-required, "
                                                             "reopen-window-closed, owner-required): the "
                                                             "complaint's current status.")
    allowed_actions: list[str] | None = Field(default=None, description="With status_now: the actions you may take "
                                                                        "on the complaint now (none: an empty list).")


def problem(status: int, slug: str, title: str, detail: str, *, instance: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body = Problem(type=PROBLEM_BASE + slug, title=title, status=status, detail=detail, instance=instance or None,
                   **extra)
    return Response(status_code=status, content_type=CONTENT_TYPE, body=body.model_dump_json(exclude_none=True),
                    headers=headers or {})


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
        # Powertools puts the parameter name after "body" when a route has one body model.
        if parts and parts[0] in {"request", "body"}:
            parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_problem(error: RequestValidationError, instance: str) -> Response:
    errors = error.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(400, "malformed-json", "The request body is not valid JSON",
                       "The body could not be read as JSON. Check quotes, commas and brackets, and send "
                       "'content-type: application/json'.", instance=instance)
    details = []
    for e in errors:
        message = str(e.get("msg", "is not valid")).removeprefix("Value error, ")
        details.append({"field": _field(e.get("loc", ())), "message": message})
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return problem(422, "invalid-request", "Some fields are missing or not valid",
                   f"Correct these fields and send the request again: {summary}.", instance=instance,
                   errors=details)


class JsonBodiesOnly(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading bodies as JSON only.

    Powertools also parses form-encoded and multipart bodies into a route's body model (and fails with a bare
    ValueError, a 500, on a multipart content type without a boundary). Our API takes JSON only, as its OpenAPI
    document says: any other declared content type is 415.
    """

    def _get_body(self, app: Any) -> Any:
        content_type = (app.current_event.headers.get("content-type") or "").strip()
        media_type = content_type.split(";")[0].strip().lower()
        if content_type and media_type != "application/json":
            raise RequestUnsupportedContentType("Unsupported content type", errors=[{
                "type": "unsupported_content_type", "loc": ("body",), "msg": f"Unsupported content type: {media_type}",
                "input": {}, "ctx": {}}])
        return super()._get_body(app)


def install(app: ApiGatewayResolver) -> None:
    """Map every error a caller can cause, and our own failures, to problem+json on ``app``."""
    if hasattr(app, "_request_validation_middleware"):  # set by enable_validation=True; read per request
        app._request_validation_middleware = JsonBodiesOnly()

    def path() -> str:
        return app.current_event.path

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response:
        return _validation_problem(error, path())

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(error: RequestUnsupportedContentType) -> Response:
        sent = app.current_event.headers.get("content-type", "")
        return problem(415, "unsupported-media-type", "Unsupported content type",
                       f"Send the body as JSON with 'content-type: application/json' (this request said {sent!r}).",
                       instance=path())

    @app.exception_handler(ProblemError)
    def _edge(error: ProblemError) -> Response:
        return problem(error.status, error.slug, error.title, error.detail, instance=path(), headers=error.headers,
                       **error.extra)

    @app.exception_handler(CaseNotFound)
    def _not_found(error: CaseNotFound) -> Response:
        return problem(404, "case-not-found", "Complaint not found", str(error), instance=path())

    # A step the case's state does not allow, and its kinds: each names the status and what the caller may do now.
    # Powertools picks the handler of the most specific class (it walks the error's MRO).
    def _state_problem(status: int, slug: str, title: str, error: ActionNotAllowed) -> Response:
        return problem(status, slug, title, str(error), instance=path(), status_now=error.status,
                       allowed_actions=error.allowed_actions)

    @app.exception_handler(ActionNotAllowed)
    def _wrong_state(error: ActionNotAllowed) -> Response:
        return _state_problem(409, "wrong-state", "Not possible in the complaint's current state", error)

    @app.exception_handler(ApprovalRequired)
    def _approval(error: ApprovalRequired) -> Response:
        return _state_problem(409, "approval-required", "The response needs approval first", error)

    @app.exception_handler(ReopenWindowClosed)
    def _reopen_window(error: ReopenWindowClosed) -> Response:
        return _state_problem(409, "reopen-window-closed", "Too late to reopen this complaint", error)

    @app.exception_handler(OwnerRequired)
    def _owner(error: OwnerRequired) -> Response:
        return _state_problem(422, "owner-required", "An accountable owner is required", error)

    @app.exception_handler(ConcurrentUpdate)
    def _conflict(error: ConcurrentUpdate) -> Response:
        return problem(409, "concurrent-update", "Changed by someone else", str(error), instance=path())

    @app.exception_handler(ReasonRequired)
    def _reason(error: ReasonRequired) -> Response:
        return problem(422, "reason-required", "A reason is required", str(error), instance=path())

    @app.exception_handler(Forbidden)
    def _forbidden(error: Forbidden) -> Response:
        return problem(403, "forbidden", "Not allowed for your role", str(error), instance=path())

    @app.exception_handler(FourEyesRequired)
    def _four_eyes(error: FourEyesRequired) -> Response:
        return problem(403, "four-eyes-required", "Someone else must approve this", str(error), instance=path())

    @app.exception_handler(NotUninvolved)
    def _not_uninvolved(error: NotUninvolved) -> Response:
        return problem(403, "not-uninvolved", "Only someone who took no part may do this", str(error),
                       instance=path())

    @app.exception_handler(InvalidLink)
    def _link(error: InvalidLink) -> Response:
        return problem(422, "invalid-link", "These complaints cannot be linked", str(error), instance=path())

    @app.exception_handler(ReplyNotSent)
    def _reply(error: ReplyNotSent) -> Response:
        return problem(409, "reply-not-sent", "The reply was not sent", str(error), instance=path())

    @app.exception_handler(AttachmentNotFound)
    def _file_not_found(error: AttachmentNotFound) -> Response:
        return problem(404, "attachment-not-found", "File not found", str(error), instance=path())

    @app.exception_handler(MailNotFound)
    def _mail_not_found(error: MailNotFound) -> Response:
        return problem(404, "mail-not-found", "Inbound message not found", str(error), instance=path())

    @app.exception_handler(NotQuarantined)
    def _not_quarantined(error: NotQuarantined) -> Response:
        return problem(409, "not-quarantined", "The message is not in quarantine", str(error), instance=path(),
                       outcome=error.outcome)

    @app.exception_handler(ReleaseRefused)
    def _release_refused(error: ReleaseRefused) -> Response:
        return problem(409, "release-refused", "The message cannot be processed", str(error), instance=path())

    @app.exception_handler(DetailsRequired)
    def _details(error: DetailsRequired) -> Response:
        return problem(422, "details-required", "Details are missing", str(error), instance=path())

    @app.exception_handler(InvalidCursor)
    def _cursor(error: InvalidCursor) -> Response:
        return problem(400, "invalid-cursor", "Invalid page cursor", str(error), instance=path())

    @app.not_found
    def _no_route(error: Exception) -> Response:
        return problem(404, "not-found", "No such endpoint",
                       "There is no endpoint at this path and method. See the OpenAPI document for the "
                       "endpoints that exist.", instance=path())

    @app.exception_handler(Exception)
    def _ours(error: Exception) -> Response:
        # The one deliberate catch-all: a bug is ours, not the caller's. It is logged with its traceback and
        # the caller gets a reference to quote, never internals.
        logger.exception("unhandled error")
        request_id = app.lambda_context.aws_request_id if app.lambda_context else "unknown"
        return problem(500, "internal-error", HTTPStatus.INTERNAL_SERVER_ERROR.phrase,
                       f"Something went wrong on our side and nothing was changed by this request. Try again; "
                       f"if it keeps happening, contact us quoting request id {request_id}.",
                       instance=path(), request_id=request_id)
