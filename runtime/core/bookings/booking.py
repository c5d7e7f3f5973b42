"""Booking, rescheduling and cancelling: validated against the schedule, free of double
bookings under concurrency, idempotent with a key, and announced through the outbox.

Concurrency: every change that takes a slot first locks the target resource's row
(`SELECT ... FOR UPDATE`), then counts the bookings overlapping the new span against the
resource's capacity. Changes to one resource are thereby serialised while other resources
proceed in parallel, and the count (made after the lock, so it sees what the previous holder
committed) is right for classes as well as for one-at-a-time resources. The exclusion
constraint `bookings_no_overlap` backs this up for one-at-a-time resources in the database
itself. A change locks at most one booking, then one resource, always in that order, so two
changes cannot deadlock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from zoneinfo import ZoneInfo

import asyncpg
from pydantic import BaseModel

from simptu.runtime.core.bookings.availability import (
    Span,
    places_left,
    requested_span,
    taken_spans,
)
from simptu.runtime.core.bookings.catalogue import get_service, resources_offering
from simptu.runtime.core.bookings.errors import InvalidRequest, NotFound, SlotTaken, StaleBooking
from simptu.runtime.core.bookings.events import publish_change
from simptu.runtime.core.bookings.idempotency import claim, store_result
from simptu.runtime.core.bookings.models import (
    Booking,
    BookingRequest,
    CancelRequest,
    RescheduleRequest,
    Resource,
    Service,
)
from simptu.runtime.core.bookings.schedule import load_working_hours
from simptu.runtime.core.database import tenant_transaction
from simptu.runtime.core.tenancy import TenantNames


def _booking(row: asyncpg.Record) -> Booking:
    return Booking(id=row["id"], service_id=row["service_id"], resource_id=row["resource_id"],
                   customer_id=row["customer_id"], start=row["start_at"], end=row["end_at"],
                   status=row["status"], version=row["version"], created_at=row["created_at"],
                   updated_at=row["updated_at"])


async def get_booking(conn: asyncpg.Connection, booking_id: uuid.UUID) -> Booking:
    row = await conn.fetchrow("SELECT * FROM bookings WHERE id = $1", booking_id)
    if row is None:
        raise NotFound(f"there is no booking {booking_id}")
    return _booking(row)


async def customer_bookings(conn: asyncpg.Connection, customer_id: uuid.UUID,
                            since: dt.datetime | None = None) -> list[Booking]:
    """A customer's bookings (any status) that end after `since` (default: now), soonest
    first."""
    rows = await conn.fetch(
        "SELECT * FROM bookings WHERE customer_id = $1 "
        "AND end_at > coalesce($2, now()) ORDER BY start_at", customer_id, since)
    return [_booking(row) for row in rows]


async def list_bookings(conn: asyncpg.Connection, *, customer_id: uuid.UUID | None = None,
                        status: str | None = None,
                        after: tuple[dt.datetime, uuid.UUID] | None = None,
                        limit: int = 50) -> list[Booking]:
    """Bookings by start (then id), after position `after` (start, id); optionally only one
    customer's and of one status. For paging lists; `customer_bookings` answers the agent."""
    rows = await conn.fetch(
        "SELECT * FROM bookings WHERE ($1::uuid IS NULL OR customer_id = $1) "
        "AND ($2::text IS NULL OR status = $2) "
        "AND ($3::timestamptz IS NULL OR (start_at, id) > ($3, $4::uuid)) "
        "ORDER BY start_at, id LIMIT $5", customer_id, status, *(after or (None, None)), limit)
    return [_booking(row) for row in rows]


async def book(conn: asyncpg.Connection, tenant: TenantNames, request: BookingRequest,
               tz: ZoneInfo, *, idempotency_key: str | None = None,
               now: dt.datetime | None = None) -> Booking:
    """Book a slot; emits `io.simptu.booking.created`. `tz` is the tenant's timezone."""

    async def work() -> Booking:
        _not_in_the_past(request.start, now)
        service = await get_service(conn, request.service_id)
        resource = await _lock_resource(conn, service, request.resource_id)
        span = await _free_span(conn, service, resource, request.start, request.nights, tz)
        row = await conn.fetchrow(
            "INSERT INTO bookings (resource_id, service_id, customer_id, start_at, end_at, "
            "busy_until, exclusive) VALUES ($1, $2, $3, $4, $5, $6, $7) "
            "RETURNING *", resource.id, service.id, request.customer_id,
            span.start, span.end, span.busy_until, resource.capacity == 1)
        booking = _booking(row)
        await publish_change(conn, tenant, "created", booking)
        return booking

    return await _once(conn, tenant, idempotency_key, "book", request, work)


async def reschedule(conn: asyncpg.Connection, tenant: TenantNames, request: RescheduleRequest,
                     tz: ZoneInfo, *, idempotency_key: str | None = None,
                     now: dt.datetime | None = None) -> Booking:
    """Move a booked booking to another start (and resource); emits
    `io.simptu.booking.rescheduled`. A stay keeps its number of nights unless given."""

    async def work() -> Booking:
        previous = await _lock_booking(conn, request.booking_id, request.expected_version)
        _not_in_the_past(request.start, now)
        service = await get_service(conn, previous.service_id)
        resource = await _lock_resource(conn, service,
                                        request.resource_id or previous.resource_id)
        nights = request.nights or _nights(previous, tz)
        span = await _free_span(conn, service, resource, request.start, nights, tz,
                                ignore=previous.id)
        row = await conn.fetchrow(
            "UPDATE bookings SET resource_id = $2, start_at = $3, end_at = $4, busy_until = $5, "
            "exclusive = $6, version = version + 1, updated_at = now() WHERE id = $1 "
            "RETURNING *", previous.id, resource.id, span.start, span.end,
            span.busy_until, resource.capacity == 1)
        booking = _booking(row)
        await publish_change(conn, tenant, "rescheduled", booking, previous)
        return booking

    return await _once(conn, tenant, idempotency_key, "reschedule", request, work)


async def cancel(conn: asyncpg.Connection, tenant: TenantNames, request: CancelRequest, *,
                 idempotency_key: str | None = None) -> Booking:
    """Cancel a booked booking, freeing its slot; emits `io.simptu.booking.cancelled`."""

    async def work() -> Booking:
        previous = await _lock_booking(conn, request.booking_id, request.expected_version)
        row = await conn.fetchrow(
            "UPDATE bookings SET status = 'cancelled', version = version + 1, "
            "updated_at = now() WHERE id = $1 RETURNING *", previous.id)
        booking = _booking(row)
        await publish_change(conn, tenant, "cancelled", booking)
        return booking

    return await _once(conn, tenant, idempotency_key, "cancel", request, work)


async def complete_past_bookings(conn: asyncpg.Connection, tenant: TenantNames,
                                 now: dt.datetime | None = None, limit: int = 500) -> int:
    """Mark up to `limit` booked bookings that ended before `now` completed (what ratings
    need), each with an `io.simptu.booking.completed` event; returns how many. Meant for a
    periodic job: run it until it returns less than `limit`."""
    async with tenant_transaction(conn, tenant):
        rows = await conn.fetch(
            "UPDATE bookings SET status = 'completed', version = version + 1, updated_at = now() "
            "WHERE id IN (SELECT id FROM bookings WHERE status = 'booked' AND end_at <= $1 "
            "ORDER BY end_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING *",
            now or dt.datetime.now(dt.UTC), limit)
        for row in rows:
            await publish_change(conn, tenant, "completed", _booking(row))
    return len(rows)


async def _once(conn: asyncpg.Connection, tenant: TenantNames, key: str | None, operation: str,
                request: BaseModel, work: Callable[[], Awaitable[Booking]]) -> Booking:
    """Run `work` in a savepoint of the caller's unit of work, so a failure leaves nothing
    behind even if the caller carries on; with a key, at most once per key."""
    async with _database_errors_in_words(), tenant_transaction(conn, tenant):
        if key is not None:
            stored = await claim(conn, key, operation, request)
            if stored is not None:
                return Booking.model_validate(stored)
        booking = await work()
        if key is not None:
            await store_result(conn, key, operation, booking)
    return booking


@asynccontextmanager
async def _database_errors_in_words() -> AsyncIterator[None]:
    """What the database refuses, as booking errors (the savepoint is rolled back by then)."""
    try:
        yield
    except asyncpg.ExclusionViolationError as error:
        raise SlotTaken("that time was just booked by someone else") from error
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name != "bookings_one_per_customer_and_slot":
            raise
        raise InvalidRequest("this customer already has a place in that slot") from error
    except asyncpg.ForeignKeyViolationError as error:
        if error.constraint_name != "bookings_customer_id_fkey":
            raise
        raise NotFound("there is no such customer") from error


def _not_in_the_past(start: dt.datetime, now: dt.datetime | None) -> None:
    if start <= (now or dt.datetime.now(dt.UTC)):
        raise InvalidRequest(f"{start:%Y-%m-%d %H:%M %Z} is in the past")


def _nights(booking: Booking, tz: ZoneInfo) -> int:
    return max(1, (booking.end.astimezone(tz).date() - booking.start.astimezone(tz).date()).days)


async def _lock_resource(conn: asyncpg.Connection, service: Service,
                         resource_id: uuid.UUID) -> Resource:
    """The resource, checked to offer `service`, locked until the transaction ends."""
    [resource] = await resources_offering(conn, service, resource_id)
    isolation = await conn.fetchval("SELECT current_setting('transaction_isolation') "
                                    "FROM resources WHERE id = $1 FOR UPDATE", resource.id)
    # The count after the lock must see what the previous holder committed: only a fresh
    # snapshot per statement does (a repeatable-read snapshot could oversell a class).
    if isolation != "read committed":
        raise RuntimeError(f"bookings need a read committed transaction, not {isolation}")
    return resource


async def _lock_booking(conn: asyncpg.Connection, booking_id: uuid.UUID,
                        expected_version: int | None) -> Booking:
    """A booking that is still booked (and at the expected version), locked."""
    row = await conn.fetchrow(
        "SELECT * FROM bookings WHERE id = $1 FOR UPDATE", booking_id)
    if row is None:
        raise NotFound(f"there is no booking {booking_id}")
    booking = _booking(row)
    if expected_version is not None and booking.version != expected_version:
        raise StaleBooking(f"booking {booking_id} changed meanwhile (version {booking.version}, "
                           f"not {expected_version}); read it again")
    if booking.status != "booked":
        raise InvalidRequest(f"booking {booking_id} is {booking.status}; "
                             "only a booked one can be changed")
    return booking


async def _free_span(conn: asyncpg.Connection, service: Service, resource: Resource,
                     start: dt.datetime, nights: int, tz: ZoneInfo,
                     ignore: uuid.UUID | None = None) -> Span:
    """The span a booking at `start` takes, if the schedule offers it and it has a place left
    (not counting booking `ignore`, the one being moved). The resource must be locked."""
    if service.kind != "night" and nights != 1:
        raise InvalidRequest(f"{service.name} is not booked by the night")
    day = start.astimezone(tz).date()
    hours = await load_working_hours(conn, [resource], day, day + dt.timedelta(days=nights))
    span = requested_span(service, hours[resource.id], start, nights, tz)
    taken = await taken_spans(conn, [resource.id], span.start, span.busy_until, ignore)
    if places_left(span, taken[resource.id], resource.capacity) <= 0:
        what = "the class is full" if resource.kind == "class" else "it is already booked"
        raise SlotTaken(f"{resource.name} cannot take {service.name} at "
                        f"{start.astimezone(tz):%Y-%m-%d %H:%M}: {what}")
    return span
