"""Errors as RFC 9457 problem details (`application/problem+json`), for every error the API
answers: its own, the typed errors of the core's use cases and stores (one table, CORE_ERRORS,
says the status and kind of each), HTTP errors of the router (404, 405), validation errors and
crashes. This module is the one place an error becomes a problem."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from simptu.runtime.core.bookings import errors as booking
from simptu.runtime.core.chat.actions import ChatRefused
from simptu.runtime.core.knowledge.errors import DuplicateQuestion, EntryNotFound, KnowledgeError

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://simptu.io/problems/"
log = structlog.get_logger(__name__)


class Problem(BaseModel):
    """The body of every error response (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


class ApiProblem(Exception):
    """Raise to answer with a problem: `ApiProblem(404, "unknown-tenant", "...")`."""

    def __init__(self, status: int, kind: str, detail: str, *,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.headers = headers or {}


TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large",
          415: "Unsupported Media Type", 422: "Unprocessable Content", 429: "Too Many Requests",
          500: "Internal Server Error", 503: "Service Unavailable"}


def problem_response(status: int, detail: str, *, kind: str | None = None,
                     instance: str | None = None, headers: dict[str, str] | None = None,
                     errors: list[dict[str, Any]] | None = None) -> JSONResponse:
    problem = Problem(type=TYPE_BASE + kind if kind else "about:blank",
                      title=TITLES.get(status, "Error"), status=status, detail=detail,
                      instance=instance, errors=errors)
    return JSONResponse(problem.model_dump(exclude_none=True), status_code=status,
                        media_type=MEDIA_TYPE, headers=headers)


async def _api_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return problem_response(exc.status, exc.detail, kind=exc.kind, instance=request.url.path,
                            headers=exc.headers)


# The core's typed errors, most specific first (IdempotencyKeyReused is an InvalidRequest): what
# the core says in words becomes the `detail`, the kind of error the status (a lost race is 409,
# a request that cannot work 422). A conversation's refusals carry their own status and kind.
CORE_ERRORS: tuple[tuple[type[Exception], int, str], ...] = (
    (booking.SlotTaken, 409, "slot-taken"),
    (booking.StaleBooking, 409, "stale-booking"),
    (booking.NotFound, 404, "not-found"),
    (booking.IdempotencyKeyReused, 422, "idempotency-key-reused"),
    (booking.OutsideSchedule, 422, "outside-schedule"),
    (booking.InvalidRequest, 422, "invalid-booking"),
    (booking.BookingError, 422, "invalid-booking"),
    (EntryNotFound, 404, "not-found"),
    (DuplicateQuestion, 409, "duplicate-question"),
    (KnowledgeError, 422, "invalid-entry"),
)


async def _core_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ChatRefused):
        status, kind = exc.status, exc.reason
    else:
        status, kind = next((status, kind) for error, status, kind in CORE_ERRORS
                            if isinstance(exc, error))
    return problem_response(status, str(exc), kind=kind, instance=request.url.path)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"there is no resource at {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return problem_response(exc.status_code, detail, instance=request.url.path,
                            headers=dict(exc.headers or {}))


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"location": list(map(str, error["loc"])), "message": error["msg"]}
              for error in exc.errors()]
    summary = "; ".join(f"{'.'.join(e['location'])}: {e['message']}" for e in errors[:5])
    return problem_response(422, f"the request is not valid: {summary}", kind="invalid-request",
                            instance=request.url.path, errors=errors)


async def _crash(request: Request, exc: Exception) -> JSONResponse:
    log.error("request failed", exc_info=exc, path=request.url.path)
    return problem_response(500, "the server failed to answer this request; it was logged",
                            instance=request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiProblem, _api_problem)
    core_errors: list[type[Exception]] = [ChatRefused, *(error for error, _, _ in CORE_ERRORS)]
    for error in core_errors:
        app.add_exception_handler(error, _core_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _crash)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of an endpoint's error answers."""
    return {status: {"model": Problem, "content": {MEDIA_TYPE: {}},
                     "description": TITLES.get(status, "Error")} for status in statuses}
