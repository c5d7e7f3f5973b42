"""Ratings: a customer rates their completed booking or closed conversation once (1 to 5, an
optional comment stored sealed); staff and admins read the averages per service and per staff
member."""

from __future__ import annotations

import uuid
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends

from simptu.runtime.api.auth import STAFF_ROLES, Caller, own_customer_id
from simptu.runtime.api.dependencies import CipherDep, UnitOfWork, role
from simptu.runtime.api.problems import ApiProblem, problem_responses
from simptu.runtime.api.rating_models import Rating, RatingCreate, RatingSummary
from simptu.runtime.api.routes.bookings import visible_booking
from simptu.runtime.core import ratings
from simptu.runtime.core.chat.actions import visible_session

router = APIRouter(prefix="/v1/ratings", tags=["ratings"])
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429, 503)
CustomerCaller = Annotated[Caller, Depends(role("customer"))]
StaffCaller = Annotated[Caller, Depends(role(*STAFF_ROLES))]


@router.post("", status_code=201, response_model=Rating, responses=ERRORS)
async def rate(body: RatingCreate, caller: CustomerCaller, conn: UnitOfWork,
               cipher: CipherDep) -> Rating:
    """Rate once; 409 for a second rating, or for a booking not completed or a conversation
    not closed yet; 404 for what is not the caller's."""
    if own_customer_id(caller) is None:
        raise ApiProblem(403, "forbidden", "only customers rate; staff read the summary")
    about = await _booking_facts(conn, caller, body.booking_id) if body.booking_id else \
        await _session_facts(conn, caller, body.session_id)
    row = await ratings.add(conn, cipher, subject=caller.subject, score=body.score,
                                 comment=body.comment, **about)
    if row is None:
        raise ApiProblem(409, "already-rated", "this was rated already; a rating is given once")
    return Rating.model_validate({**dict(row), "comment": body.comment})


async def _booking_facts(conn: asyncpg.Connection, caller: Caller,
                         booking_id: uuid.UUID) -> dict[str, uuid.UUID | None]:
    booking = await visible_booking(conn, caller, booking_id)
    if booking.status != "completed":
        raise ApiProblem(409, "not-completed", f"booking {booking_id} is {booking.status}; "
                         "a booking is rated once it is completed")
    return {"booking_id": booking.id, "service_id": booking.service_id,
            "resource_id": booking.resource_id}


async def _session_facts(conn: asyncpg.Connection, caller: Caller,
                         session_id: uuid.UUID | None) -> dict[str, uuid.UUID | None]:
    assert session_id is not None  # RatingCreate names exactly one
    session = await visible_session(conn, caller, session_id)
    if session["status"] != "closed":
        raise ApiProblem(409, "not-closed", f"chat session {session_id} is not closed; "
                         "a conversation is rated once it is closed")
    return {"session_id": session_id}


@router.get("/summary", response_model=RatingSummary, responses=ERRORS)
async def summary(_: StaffCaller, conn: UnitOfWork) -> RatingSummary:
    """Count and average score per service, per staff member, and of conversations."""
    return RatingSummary.model_validate(await ratings.summary(conn))
