"""Bookings: create (with `Idempotency-Key`), list, get, reschedule and cancel, through the
booking engine, which refuses double bookings. A customer books and sees only their own
bookings; staff and admins book for any customer and see them all."""

from __future__ import annotations

import uuid
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Header, Query

from simptu.runtime.api.auth import BOOKING_ROLES, Caller, own_customer_id
from simptu.runtime.api.booking_models import (
    BookingCancel,
    BookingCreate,
    BookingPage,
    BookingReschedule,
)
from simptu.runtime.api.dependencies import TenantDep, UnitOfWork, role
from simptu.runtime.api.pagination import MAX_PAGE, after_time_and_id, time_and_id_cursor
from simptu.runtime.api.problems import ApiProblem, problem_responses
from simptu.runtime.api.routes.catalogue import TenantTz
from simptu.runtime.core import bookings
from simptu.runtime.core.bookings.models import (
    Booking,
    BookingRequest,
    BookingStatus,
    CancelRequest,
    RescheduleRequest,
)
from simptu.runtime.core.customers import ensure_customer

router = APIRouter(prefix="/v1/bookings", tags=["bookings"])
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429, 503)
BookingCaller = Annotated[Caller, Depends(role(*BOOKING_ROLES))]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=255,
    description="retrying with the same key and body answers the first result again; the "
    "same key with another body is refused (422)")]


async def visible_booking(conn: asyncpg.Connection, caller: Caller,
                          booking_id: uuid.UUID) -> Booking:
    """The booking if the caller may see it; 404 otherwise (its existence is not revealed)."""
    booking = await bookings.get_booking(conn, booking_id)
    own = own_customer_id(caller)
    if own is not None and booking.customer_id != own:
        raise bookings.NotFound(f"there is no booking {booking_id}")
    return booking


async def customer_to_book(conn: asyncpg.Connection, caller: Caller,
                           body: BookingCreate) -> uuid.UUID:
    own = own_customer_id(caller)
    if own is None:
        if body.customer_id is None:
            raise ApiProblem(422, "customer-required", "staff name the customer: customer_id")
        return body.customer_id
    if body.customer_id not in (None, own):
        raise ApiProblem(403, "forbidden", "a customer books only for themself")
    await ensure_customer(conn, own)
    return own


@router.post("", status_code=201, response_model=Booking, responses=ERRORS)
async def create_booking(body: BookingCreate, caller: BookingCaller, tenant: TenantDep,
                         conn: UnitOfWork, tz: TenantTz,
                         idempotency_key: IdempotencyKey = None) -> Booking:
    """Book a free slot; 409 if someone else just took it."""
    customer_id = await customer_to_book(conn, caller, body)
    request = BookingRequest(customer_id=customer_id,
                             **body.model_dump(exclude={"customer_id"}))
    return await bookings.book(conn, tenant.names, request, tz, idempotency_key=idempotency_key)


@router.get("", response_model=BookingPage, responses=ERRORS)
async def list_bookings(caller: BookingCaller, conn: UnitOfWork,
                        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
                        cursor: str | None = None, status: BookingStatus | None = None,
                        customer_id: uuid.UUID | None = None) -> BookingPage:
    """By start time; a customer sees their own, staff filter by `customer_id` if they wish."""
    own = own_customer_id(caller)
    if own is not None and customer_id not in (None, own):
        raise ApiProblem(403, "forbidden", "a customer sees only their own bookings")
    items = await bookings.list_bookings(conn, customer_id=own or customer_id, status=status,
                                         after=after_time_and_id(cursor), limit=limit + 1)
    next_cursor = (time_and_id_cursor(items[limit - 1].start, items[limit - 1].id)
                   if len(items) > limit else None)
    return BookingPage(items=items[:limit], next_cursor=next_cursor)


@router.get("/{booking_id}", response_model=Booking, responses=ERRORS)
async def get_booking(booking_id: uuid.UUID, caller: BookingCaller,
                      conn: UnitOfWork) -> Booking:
    return await visible_booking(conn, caller, booking_id)


@router.post("/{booking_id}/reschedule", response_model=Booking, responses=ERRORS)
async def reschedule_booking(booking_id: uuid.UUID, body: BookingReschedule,
                             caller: BookingCaller, tenant: TenantDep, conn: UnitOfWork,
                             tz: TenantTz, idempotency_key: IdempotencyKey = None) -> Booking:
    """Move the booking to another free start (and resource); 409 if that is taken or the
    booking changed since `expected_version`."""
    await visible_booking(conn, caller, booking_id)
    request = RescheduleRequest(booking_id=booking_id, **body.model_dump())
    return await bookings.reschedule(conn, tenant.names, request, tz,
                                     idempotency_key=idempotency_key)


@router.post("/{booking_id}/cancel", response_model=Booking, responses=ERRORS)
async def cancel_booking(booking_id: uuid.UUID, body: BookingCancel, caller: BookingCaller,
                         tenant: TenantDep, conn: UnitOfWork,
                         idempotency_key: IdempotencyKey = None) -> Booking:
    """Cancel the booking, freeing its slot."""
    await visible_booking(conn, caller, booking_id)
    request = CancelRequest(booking_id=booking_id, **body.model_dump())
    return await bookings.cancel(conn, tenant.names, request, idempotency_key=idempotency_key)
