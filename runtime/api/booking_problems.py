"""The booking engine's errors as problem+json: what the engine says in words becomes the
`detail`, the kind of error the status (a lost race is 409, a request that cannot work 422)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from simptu.runtime.api.problems import problem_response
from simptu.runtime.core.bookings.errors import (
    BookingError,
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
    OutsideSchedule,
    SlotTaken,
    StaleBooking,
)

# Most specific first: IdempotencyKeyReused is an InvalidRequest.
STATUSES: tuple[tuple[type[BookingError], int, str], ...] = (
    (SlotTaken, 409, "slot-taken"),
    (StaleBooking, 409, "stale-booking"),
    (NotFound, 404, "not-found"),
    (IdempotencyKeyReused, 422, "idempotency-key-reused"),
    (OutsideSchedule, 422, "outside-schedule"),
    (InvalidRequest, 422, "invalid-booking"),
)


async def _booking_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BookingError)
    status, kind = next(((status, kind) for error, status, kind in STATUSES
                         if isinstance(exc, error)), (422, "invalid-booking"))
    return problem_response(status, str(exc), kind=kind, instance=request.url.path)


def install_booking_problems(app: FastAPI) -> None:
    app.add_exception_handler(BookingError, _booking_problem)
