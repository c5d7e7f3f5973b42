"""Applying a platform's reservation to the tenant's bookings, inside the caller's unit of work.

Level-based: each notification says what the reservation is now (its dates and room type, or
cancelled), and the booking is made to match; a notification applied again finds it matching
and changes nothing. Two notifications of one reservation at once are serialised by its row
(inserted first, then locked). What cannot be booked (an unknown room type, no room free, dates
in the past) is left with staff, the reason recorded, nothing booked."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

import asyncpg

from simptu.runtime.core.bookings import (
    Booking,
    BookingError,
    BookingRequest,
    CancelRequest,
    RescheduleRequest,
    Resource,
    Service,
    SlotTaken,
    book,
    cancel,
    get_booking,
    list_services,
    reschedule,
)
from simptu.runtime.core.bookings.catalogue import resources_offering
from simptu.runtime.core.bookings.schedule import at
from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.database import tenant_transaction
from simptu.runtime.core.reservations.models import Applied, Reservation
from simptu.runtime.core.reservations.staff import announce_with_staff
from simptu.runtime.core.tenancy import TenantNames

CUSTOMERS = "customers"


async def apply_reservation(conn: asyncpg.Connection, cipher: TenantCipher,
                            tenant: TenantNames, tz: ZoneInfo, reservation: Reservation, *,
                            now: dt.datetime | None = None) -> Applied:
    """Make the tenant's bookings match `reservation`; what was done."""
    async with tenant_transaction(conn, tenant):
        await conn.execute(
            "INSERT INTO reservations (source, reservation_id, status) VALUES ($1, $2, "
            "'pending') ON CONFLICT DO NOTHING", reservation.source, reservation.reservation_id)
        row = await conn.fetchrow(
            "SELECT * FROM reservations WHERE source = $1 AND reservation_id = $2 FOR UPDATE",
            reservation.source, reservation.reservation_id)
        current = await get_booking(conn, row["booking_id"]) if row["booking_id"] else None
        if reservation.action == "new" and row["status"] != "pending":
            # A new reservation is booked once; what changes it comes as a modification.
            return Applied(outcome="unchanged", booking_id=row["booking_id"])
        if reservation.action == "cancel":
            applied = await _cancelled(conn, tenant, current)
        elif row["status"] == "cancelled":
            applied = Applied(outcome="with_staff", booking_id=row["booking_id"],
                              detail="a change to a reservation that was cancelled")
        else:
            applied = await _stay(conn, cipher, tenant, tz, reservation, row["customer_id"],
                                  current, now)
        if applied.outcome == "with_staff" and row["status"] in ("booked", "cancelled"):
            status = row["status"]  # what was booked stays booked until staff change it
        else:
            status = {"booked": "booked", "moved": "booked", "cancelled": "cancelled",
                      "with_staff": "with_staff"}.get(applied.outcome, row["status"])
        await conn.execute(
            "UPDATE reservations SET status = $3, booking_id = COALESCE($4, booking_id), "
            "customer_id = COALESCE($5, customer_id), detail = $6, updated_at = now() "
            "WHERE source = $1 AND reservation_id = $2", reservation.source,
            reservation.reservation_id, status, applied.booking_id,
            await _customer_of(conn, applied.booking_id), applied.detail)
        if applied.outcome == "with_staff":
            await announce_with_staff(conn, tenant, reservation.source,
                                      reservation.reservation_id, applied.detail)
    return applied


async def _customer_of(conn: asyncpg.Connection, booking_id: uuid.UUID | None) -> uuid.UUID | None:
    if booking_id is None:
        return None
    customer: uuid.UUID = await conn.fetchval(
        "SELECT customer_id FROM bookings WHERE id = $1", booking_id)
    return customer


async def _cancelled(conn: asyncpg.Connection, tenant: TenantNames,
                     current: Booking | None) -> Applied:
    if current is None:
        return Applied(outcome="cancelled")
    if current.status != "booked":
        return Applied(outcome="unchanged", booking_id=current.id)
    cancelled = await cancel(conn, tenant, CancelRequest(booking_id=current.id))
    return Applied(outcome="cancelled", booking_id=cancelled.id)


async def _stay(conn: asyncpg.Connection, cipher: TenantCipher, tenant: TenantNames,
                tz: ZoneInfo, reservation: Reservation, customer_id: uuid.UUID | None,
                current: Booking | None, now: dt.datetime | None) -> Applied:
    """Book the stay, or move the booking there; with staff when it cannot be."""
    assert reservation.check_in is not None, "checked by the model"
    assert reservation.check_out is not None, "checked by the model"
    nights = (reservation.check_out - reservation.check_in).days
    service = await room_service(conn, reservation.room_type)
    if service is None:
        return _with_staff(current, f"no room type named {reservation.room_type!r}")
    if nights < 1:
        return _with_staff(current, f"check-out {reservation.check_out} is not after "
                                    f"check-in {reservation.check_in}")
    assert service.check_in is not None
    start = at(reservation.check_in, service.check_in, tz)
    try:
        async with conn.transaction():  # a guest of a stay that cannot be booked is not kept
            if current is not None and current.status == "booked":
                return await _moved(conn, tenant, tz, service, current, start, nights, now)
            customer = customer_id or await _new_guest(conn, cipher, reservation)
            return await _booked(conn, tenant, tz, service, customer, start, nights, now)
    except BookingError as error:
        return _with_staff(current, str(error))


def _with_staff(current: Booking | None, detail: str) -> Applied:
    return Applied(outcome="with_staff", booking_id=current.id if current else None,
                   detail=detail)


async def room_service(conn: asyncpg.Connection, room_type: str) -> Service | None:
    """The night service a platform's room type names (its name in any language)."""
    wanted = room_type.strip().casefold()
    for service in await list_services(conn):
        names = {service.name, *service.names.values()}
        if service.kind == "night" and wanted in {name.casefold() for name in names}:
            return service
    return None


async def _new_guest(conn: asyncpg.Connection, cipher: TenantCipher,
                     reservation: Reservation) -> uuid.UUID:
    """The guest as a customer of the hotel: their name (and e-mail) sealed."""
    customer_id = uuid.uuid4()
    email = reservation.guest_email
    await conn.execute(
        "INSERT INTO customers (id, name, email, email_index) VALUES ($1, $2, $3, $4)",
        customer_id, await cipher.seal(CUSTOMERS, "name", customer_id, reservation.guest_name),
        await cipher.seal(CUSTOMERS, "email", customer_id, email) if email else None,
        await cipher.blind_index("email", email) if email else None)
    return customer_id


async def _first_free(rooms: list[Resource], take: Callable[[Resource], Awaitable[Booking]],
                      service: Service, start: dt.datetime, nights: int,
                      tz: ZoneInfo) -> Booking:
    """What `take` makes of the first of `rooms` that is free for the stay."""
    for room in rooms:
        with contextlib.suppress(SlotTaken):
            return await take(room)
    raise SlotTaken(f"no {service.name} is free for {nights} night(s) from "
                    f"{start.astimezone(tz):%Y-%m-%d}")


async def _booked(conn: asyncpg.Connection, tenant: TenantNames, tz: ZoneInfo,
                  service: Service, customer_id: uuid.UUID, start: dt.datetime, nights: int,
                  now: dt.datetime | None) -> Applied:
    """The first room of the type that is free for the stay, booked."""
    async def take(room: Resource) -> Booking:
        return await book(conn, tenant, BookingRequest(
            service_id=service.id, resource_id=room.id, customer_id=customer_id, start=start,
            nights=nights), tz, now=now)

    rooms = await resources_offering(conn, service, None)
    booking = await _first_free(rooms, take, service, start, nights, tz)
    return Applied(outcome="booked", booking_id=booking.id)


async def _moved(conn: asyncpg.Connection, tenant: TenantNames, tz: ZoneInfo,
                 service: Service, current: Booking, start: dt.datetime, nights: int,
                 now: dt.datetime | None) -> Applied:
    """The booking moved to the new stay: its room if free, else another of the type; a new
    room type is a new booking (the old one cancelled once the new one is made)."""
    if current.service_id != service.id:
        moved = await _booked(conn, tenant, tz, service, current.customer_id, start, nights, now)
        await cancel(conn, tenant, CancelRequest(booking_id=current.id))
        return moved
    if current.start == start and _nights(current, tz) == nights:
        return Applied(outcome="unchanged", booking_id=current.id)

    async def take(room: Resource) -> Booking:
        return await reschedule(conn, tenant, RescheduleRequest(
            booking_id=current.id, start=start, resource_id=room.id, nights=nights), tz,
            now=now)

    rooms = await resources_offering(conn, service, None)
    ordered = sorted(rooms, key=lambda room: room.id != current.resource_id)  # its own first
    booking = await _first_free(ordered, take, service, start, nights, tz)
    return Applied(outcome="moved", booking_id=booking.id)


def _nights(booking: Booking, tz: ZoneInfo) -> int:
    return (booking.end.astimezone(tz).date() - booking.start.astimezone(tz).date()).days

