"""A platform's reservation becomes a booking of the hotel's rooms once, however often it is
told; a modification moves it, a cancellation cancels it, and what cannot be booked is left
with staff (recorded, announced), nothing booked."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.reservations import Applied, Reservation, apply_reservation

from .conftest import TIMEZONE, Hotel, new_reservation_id, stay

TZ = ZoneInfo(TIMEZONE)


async def apply(hotel: Hotel, reservation: Reservation) -> Applied:
    async with TenantUnitOfWork(hotel.db, hotel.names) as conn:
        return await apply_reservation(conn, hotel.key_ring.cipher(hotel.names, conn),
                                       hotel.names, TZ, reservation)


def told(reservation_id: str, check_in: dt.date, check_out: dt.date, *,
         action: str = "new", room: str = "Double room") -> Reservation:
    return Reservation.model_validate({
        "source": "booking.com", "reservation_id": reservation_id, "action": action,
        "guest_name": "Ana Pop", "check_in": check_in, "check_out": check_out,
        "room_type": room, "total": "900.00", "currency": "RON"})


async def test_a_reservation_told_twice_is_booked_once(hotel: Hotel) -> None:
    reservation = told(new_reservation_id(), *stay(2))
    first = await apply(hotel, reservation)
    again = await apply(hotel, reservation)
    assert first.outcome == "booked"
    assert (again.outcome, again.booking_id) == ("unchanged", first.booking_id)
    [booking] = await hotel.fetch("SELECT * FROM bookings")
    assert booking["id"] == first.booking_id
    check_in = reservation.check_in
    assert check_in is not None
    assert booking["start_at"] == dt.datetime.combine(check_in, dt.time(14), TZ)
    assert booking["end_at"] == dt.datetime.combine(check_in + dt.timedelta(days=2),
                                                    dt.time(11), TZ)
    assert await hotel.guest_names() == ["Ana Pop"]


async def test_a_modification_moves_the_booking_and_a_cancellation_cancels_it(
        hotel: Hotel) -> None:
    reservation_id = new_reservation_id()
    booked = await apply(hotel, told(reservation_id, *stay(2)))
    later = stay(3, after=5)
    moved = await apply(hotel, told(reservation_id, *later, action="modify"))
    moved_again = await apply(hotel, told(reservation_id, *later, action="modify"))
    assert (moved.outcome, moved.booking_id) == ("moved", booked.booking_id)
    assert moved_again.outcome == "unchanged"
    [booking] = await hotel.fetch("SELECT * FROM bookings")
    assert booking["start_at"] == dt.datetime.combine(later[0], dt.time(14), TZ)
    assert booking["end_at"] == dt.datetime.combine(later[1], dt.time(11), TZ)
    cancelled = await apply(hotel, Reservation(source="booking.com",
                                               reservation_id=reservation_id,
                                               action="cancel"))
    assert (cancelled.outcome, cancelled.booking_id) == ("cancelled", booked.booking_id)
    assert [row["status"] for row in await hotel.fetch("SELECT status FROM bookings")] == [
        "cancelled"]
    [row] = await hotel.fetch("SELECT status FROM reservations")
    assert row["status"] == "cancelled"


async def test_another_room_type_is_a_new_booking_in_that_room(hotel: Hotel) -> None:
    reservation_id = new_reservation_id()
    booked = await apply(hotel, told(reservation_id, *stay(2)))
    moved = await apply(hotel, told(reservation_id, *stay(2), action="modify",
                                    room="Apartament de familie"))
    assert moved.outcome == "booked"
    rows = await hotel.fetch("SELECT b.id, b.status, s.name FROM bookings b "
                             "JOIN services s ON s.id = b.service_id ORDER BY b.created_at")
    assert [(r["id"], r["status"], r["name"]) for r in rows] == [
        (booked.booking_id, "cancelled", "Double room"),
        (moved.booking_id, "booked", "Family suite")]


async def test_a_full_hotel_or_an_unknown_room_is_left_with_staff(hotel: Hotel) -> None:
    dates = stay(1)
    suite = [await apply(hotel, told(new_reservation_id(), *dates, room="Family suite"))
             for _ in range(2)]
    unknown = await apply(hotel, told(new_reservation_id(), *dates, room="Penthouse"))
    assert [a.outcome for a in suite] == ["booked", "with_staff"]
    assert "no Family suite is free" in suite[1].detail
    assert (unknown.outcome, unknown.booking_id) == ("with_staff", None)
    assert len(await hotel.fetch("SELECT id FROM bookings")) == 1
    assert len(await hotel.fetch("SELECT id FROM customers")) == 1  # no guest without a stay
    rows = await hotel.fetch("SELECT status, detail FROM reservations ORDER BY created_at")
    assert [(r["status"], r["detail"]) for r in rows] == [
        ("booked", ""), ("with_staff", suite[1].detail),
        ("with_staff", "no room type named 'Penthouse'")]
