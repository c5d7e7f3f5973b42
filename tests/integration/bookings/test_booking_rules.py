"""Booking, rescheduling and cancelling against a real tenant schema: what is accepted, what
is refused with which error, and that a refused request changes nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import pytest

from simptu.runtime.core.bookings import (
    Booking,
    BookingRequest,
    CancelRequest,
    InvalidRequest,
    NotFound,
    OutsideSchedule,
    RescheduleRequest,
    SlotTaken,
    StaleBooking,
    availability,
    book,
    cancel,
    customer_bookings,
    reschedule,
    stay_availability,
)
from simptu.runtime.core.bookings.booking import complete_past_bookings
from simptu.runtime.core.bookings.catalogue import close_day, list_resources, list_services
from simptu.runtime.core.database import TenantUnitOfWork

from .conftest import TZ, Catalogue, MakeCustomers, bookings_of, local, outbox_events


async def free_starts(db: asyncpg.Pool, catalogue: Catalogue, service: uuid.UUID,
                      resource: uuid.UUID | None = None) -> list[str]:
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        slots = await availability(conn, service, resource, catalogue.monday, catalogue.monday,
                                   TZ)
    return [f"{slot.start.astimezone(TZ):%H:%M}" for slot in slots]


async def test_the_catalogue_lists_services_and_who_offers_them(db: asyncpg.Pool,
                                                                catalogue: Catalogue) -> None:
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        services = await list_services(conn)
        consultants = await list_resources(conn, catalogue.consultation)
    assert [s.name for s in services] == ["Cleaning", "Consultation", "Double room", "Yoga"]
    assert [r.name for r in consultants] == ["Dr Ana", "Dr Mihai"]
    assert [(h.weekday, f"{h.opens:%H:%M}", f"{h.closes:%H:%M}") for h in consultants[1].hours] \
        == [(1, "09:00", "10:00")]
    assert len(consultants[0].hours) == 5


async def test_availability_covers_every_resource_offering_the_service(
    db: asyncpg.Pool, catalogue: Catalogue,
) -> None:
    starts = await free_starts(db, catalogue, catalogue.consultation)
    # Dr Mihai works 09:00-10:00, Dr Ana 09:00-12:00: both offer the first hour.
    assert starts[:4] == ["09:00", "09:00", "09:15", "09:15"]
    assert len(starts) == 3 + 11


async def test_a_booked_slot_is_no_longer_offered(db: asyncpg.Pool, catalogue: Catalogue,
                                                  customer: uuid.UUID) -> None:
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        booking = await book(conn, catalogue.tenant, catalogue.cleaning_at(customer, "10:00"), TZ)
    assert booking.status == "booked"
    assert booking.version == 1
    assert booking.end == local(catalogue.monday, "10:45")
    # 45 minutes plus a 15-minute buffer: nothing from 09:15 to 10:45 fits around it.
    assert await free_starts(db, catalogue, catalogue.cleaning, catalogue.dr_ana) == [
        "09:00", "11:00", "11:15"]


async def test_a_taken_slot_is_refused_and_nothing_changes(
    db: asyncpg.Pool, catalogue: Catalogue, nine_and_eleven: tuple[Booking, Booking],
) -> None:
    other_customer = nine_and_eleven[1].customer_id
    # 09:30 overlaps the 09:00 cleaning, 09:45 its buffer, 10:30 runs into the 11:00 one.
    for time in ("09:00", "09:30", "09:45", "10:30"):
        with pytest.raises(SlotTaken, match="Dr Ana cannot take Cleaning"):
            async with TenantUnitOfWork(db, catalogue.tenant) as conn:
                await book(conn, catalogue.tenant, catalogue.cleaning_at(other_customer, time),
                           TZ)
    assert len(await bookings_of(db, catalogue.tenant)) == 2
    assert len(await outbox_events(db, catalogue.tenant)) == 2


async def test_the_database_itself_refuses_an_overlap_on_a_one_at_a_time_resource(
    db: asyncpg.Pool, catalogue: Catalogue, customer: uuid.UUID,
) -> None:
    """Even a writer that skips the booking code's lock cannot double book Dr Ana."""
    insert = ("INSERT INTO bookings (resource_id, service_id, customer_id, start_at, end_at, "
              "busy_until, exclusive) VALUES ($1, $2, $3, $4, $5, $5, true)")
    start = local(catalogue.monday, "09:00")
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        await conn.execute(insert, catalogue.dr_ana, catalogue.cleaning, customer, start,
                           start + dt.timedelta(hours=1))
    with pytest.raises(asyncpg.ExclusionViolationError):
        async with TenantUnitOfWork(db, catalogue.tenant) as conn:
            await conn.execute(insert, catalogue.dr_ana, catalogue.cleaning, customer,
                               start + dt.timedelta(minutes=30), start + dt.timedelta(hours=2))


@pytest.mark.parametrize(("change", "error", "says"), [
    ({"start": "09:05"}, OutsideSchedule, "every 15 minutes"),
    ({"start": "11:30"}, OutsideSchedule, "hours are 09:00-12:00"),
    ({"resource": "dr_mihai"}, InvalidRequest, "Dr Mihai does not offer Cleaning"),
    ({"resource": "unknown"}, NotFound, "no bookable resource"),
    ({"service": "unknown"}, NotFound, "no service"),
    ({"customer": "unknown"}, NotFound, "no such customer"),
    ({"day": "last week"}, InvalidRequest, "in the past"),
    ({"nights": "2"}, InvalidRequest, "Cleaning is not booked by the night"),
])
async def test_a_bad_request_is_refused_with_a_reason_and_changes_nothing(
    db: asyncpg.Pool, catalogue: Catalogue, customer: uuid.UUID, change: dict[str, str],
    error: type[Exception], says: str,
) -> None:
    request = catalogue.cleaning_at(customer, change.get("start", "09:00"),
                                    catalogue.monday - dt.timedelta(days=14)
                                    if "day" in change else None)
    unknown = uuid.uuid4()
    request = request.model_copy(update={
        "resource_id": {"dr_mihai": catalogue.dr_mihai, "unknown": unknown}.get(
            change.get("resource", ""), request.resource_id),
        "service_id": unknown if "service" in change else request.service_id,
        "customer_id": unknown if "customer" in change else request.customer_id,
        "nights": int(change.get("nights", 1))})
    with pytest.raises(error, match=says):
        async with TenantUnitOfWork(db, catalogue.tenant) as conn:
            await book(conn, catalogue.tenant, request, TZ)
    assert await bookings_of(db, catalogue.tenant) == []
    assert await outbox_events(db, catalogue.tenant) == []


async def test_a_customer_takes_one_place_in_a_class_session(
    db: asyncpg.Pool, catalogue: Catalogue, customer: uuid.UUID,
) -> None:
    request = BookingRequest(service_id=catalogue.yoga, resource_id=catalogue.yoga_class,
                             customer_id=customer, start=local(catalogue.monday, "18:00"))
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        booked = await book(conn, catalogue.tenant, request, TZ)
    with pytest.raises(InvalidRequest, match="already has a place in that slot"):
        async with TenantUnitOfWork(db, catalogue.tenant) as conn:
            await book(conn, catalogue.tenant, request, TZ)
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        assert await customer_bookings(conn, customer) == [booked]
        [slot] = await availability(conn, catalogue.yoga, None, catalogue.monday,
                                    catalogue.monday, TZ)
    assert slot.places_left == 2


async def test_a_closed_day_offers_nothing_and_refuses_bookings(
    db: asyncpg.Pool, catalogue: Catalogue, customer: uuid.UUID,
) -> None:
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        await close_day(conn, catalogue.monday, reason="Public holiday")
    assert await free_starts(db, catalogue, catalogue.cleaning) == []
    with pytest.raises(OutsideSchedule, match="hours are closed"):
        async with TenantUnitOfWork(db, catalogue.tenant) as conn:
            await book(conn, catalogue.tenant, catalogue.cleaning_at(customer), TZ)


async def test_a_failed_booking_leaves_the_caller_s_unit_of_work_usable(
    db: asyncpg.Pool, catalogue: Catalogue, make_customers: MakeCustomers,
) -> None:
    """The agent may catch SlotTaken and book another slot in the same transaction."""
    first, second = await make_customers(catalogue.tenant, 2)
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        await book(conn, catalogue.tenant, catalogue.cleaning_at(first, "09:00"), TZ)
        with pytest.raises(SlotTaken):
            await book(conn, catalogue.tenant, catalogue.cleaning_at(second, "09:00"), TZ)
        await book(conn, catalogue.tenant, catalogue.cleaning_at(second, "10:00"), TZ)
    assert len(await bookings_of(db, catalogue.tenant)) == 2


async def test_rescheduling_moves_the_booking_and_frees_its_old_slot(
    db: asyncpg.Pool, catalogue: Catalogue, customer: uuid.UUID,
) -> None:
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        booked = await book(conn, catalogue.tenant, catalogue.cleaning_at(customer, "09:00"), TZ)
        moved = await reschedule(conn, catalogue.tenant, RescheduleRequest(
            booking_id=booked.id, start=local(catalogue.monday, "11:00"),
            expected_version=1), TZ)
    assert (moved.id, moved.version) == (booked.id, 2)
    assert moved.start == local(catalogue.monday, "11:00")
    assert "09:00" in await free_starts(db, catalogue, catalogue.cleaning)
    assert "11:00" not in await free_starts(db, catalogue, catalogue.cleaning)


async def test_rescheduling_within_its_own_slot_is_allowed(
    db: asyncpg.Pool, catalogue: Catalogue, customer: uuid.UUID,
) -> None:
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        booked = await book(conn, catalogue.tenant, catalogue.cleaning_at(customer, "09:00"), TZ)
        moved = await reschedule(conn, catalogue.tenant, RescheduleRequest(
            booking_id=booked.id, start=local(catalogue.monday, "09:15")), TZ)
    assert moved.start == local(catalogue.monday, "09:15")


async def test_rescheduling_onto_a_taken_slot_or_from_a_stale_version_is_refused(
    db: asyncpg.Pool, catalogue: Catalogue, nine_and_eleven: tuple[Booking, Booking],
) -> None:
    mine = nine_and_eleven[0]
    onto_taken = RescheduleRequest(booking_id=mine.id, start=local(catalogue.monday, "11:00"))
    stale = RescheduleRequest(booking_id=mine.id, start=local(catalogue.monday, "10:00"),
                              expected_version=7)
    for request, error in ((onto_taken, SlotTaken), (stale, StaleBooking)):
        with pytest.raises(error):
            async with TenantUnitOfWork(db, catalogue.tenant) as conn:
                await reschedule(conn, catalogue.tenant, request, TZ)
    rows = await bookings_of(db, catalogue.tenant)
    assert [(r["start_at"], r["version"]) for r in rows] == [
        (local(catalogue.monday, "09:00"), 1), (local(catalogue.monday, "11:00"), 1)]


async def test_cancelling_frees_the_slot_and_cannot_be_done_twice(
    db: asyncpg.Pool, catalogue: Catalogue, customer: uuid.UUID,
) -> None:
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        booked = await book(conn, catalogue.tenant, catalogue.cleaning_at(customer), TZ)
        cancelled = await cancel(conn, catalogue.tenant, CancelRequest(booking_id=booked.id))
    assert (cancelled.status, cancelled.version) == ("cancelled", 2)
    assert "09:00" in await free_starts(db, catalogue, catalogue.cleaning)
    with pytest.raises(InvalidRequest, match="is cancelled"):
        async with TenantUnitOfWork(db, catalogue.tenant) as conn:
            await cancel(conn, catalogue.tenant, CancelRequest(booking_id=booked.id))
    with pytest.raises(NotFound):
        async with TenantUnitOfWork(db, catalogue.tenant) as conn:
            await cancel(conn, catalogue.tenant, CancelRequest(booking_id=uuid.uuid4()))


async def test_every_change_writes_its_event_to_the_outbox(
    db: asyncpg.Pool, catalogue: Catalogue, customer: uuid.UUID,
) -> None:
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        booked = await book(conn, catalogue.tenant, catalogue.cleaning_at(customer), TZ)
        await reschedule(conn, catalogue.tenant, RescheduleRequest(
            booking_id=booked.id, start=local(catalogue.monday, "10:00")), TZ)
        await cancel(conn, catalogue.tenant, CancelRequest(booking_id=booked.id))
    events = await outbox_events(db, catalogue.tenant)
    assert [e.type for e in events] == ["io.simptu.booking.created",
                                        "io.simptu.booking.rescheduled",
                                        "io.simptu.booking.cancelled"]
    assert {(e.tenantid, e.subject) for e in events} == {(catalogue.tenant.slug, str(booked.id))}
    assert events[1].data["previous"]["start"] == booked.start.isoformat().replace("+00:00", "Z")
    assert [e.data["version"] for e in events] == [1, 2, 3]
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        topics = await conn.fetch("SELECT DISTINCT topic, key FROM outbox")
    assert [(r["topic"], r["key"]) for r in topics] == [
        (catalogue.tenant.topic("events"), str(booked.id).encode())]


async def test_a_hotel_stay_takes_every_night_and_the_room_turns_over_on_check_out_day(
    db: asyncpg.Pool, catalogue: Catalogue, make_customers: MakeCustomers,
) -> None:
    first, second = await make_customers(catalogue.tenant, 2)
    monday = catalogue.monday

    def stay(customer: uuid.UUID, check_in_day: int, nights: int = 1) -> BookingRequest:
        return BookingRequest(
            service_id=catalogue.night, resource_id=catalogue.room, customer_id=customer,
            start=local(monday + dt.timedelta(days=check_in_day), "14:00"), nights=nights)

    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        booked = await book(conn, catalogue.tenant, stay(first, 0, nights=2), TZ)
        nights = await availability(conn, catalogue.night, None, monday,
                                    monday + dt.timedelta(days=3), TZ)
    assert booked.end == local(monday + dt.timedelta(days=2), "11:00")
    assert [n.start.astimezone(TZ).date() for n in nights] == [
        monday + dt.timedelta(days=2), monday + dt.timedelta(days=3)]
    with pytest.raises(SlotTaken):
        async with TenantUnitOfWork(db, catalogue.tenant) as conn:
            await book(conn, catalogue.tenant, stay(second, 1), TZ)
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        assert await stay_availability(conn, catalogue.night, monday + dt.timedelta(days=1), 2,
                                       TZ) == []
        [later] = await stay_availability(conn, catalogue.night, monday + dt.timedelta(days=2),
                                          3, TZ)
    assert (later.resource_id, later.end) == (catalogue.room,
                                              local(monday + dt.timedelta(days=5), "11:00"))
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        await book(conn, catalogue.tenant, stay(second, 2), TZ)


async def test_bookings_that_ended_are_marked_completed_once(
    db: asyncpg.Pool, catalogue: Catalogue, nine_and_eleven: tuple[Booking, Booking],
) -> None:
    early = nine_and_eleven[0]
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        after_the_first = local(catalogue.monday, "10:00")
        assert await complete_past_bookings(conn, catalogue.tenant, after_the_first) == 1
        assert await complete_past_bookings(conn, catalogue.tenant, after_the_first) == 0
    rows = await bookings_of(db, catalogue.tenant)
    assert [(r["id"], r["status"]) for r in rows if r["status"] == "completed"] == [
        (early.id, "completed")]
    assert (await outbox_events(db, catalogue.tenant))[-1].type == "io.simptu.booking.completed"


async def test_a_stay_is_asked_for_night_services_and_whole_nights_only(
    db: asyncpg.Pool, catalogue: Catalogue,
) -> None:
    for service, nights, says in ((catalogue.cleaning, 1, "not booked by the night"),
                                  (catalogue.night, 0, "1 to 60 nights")):
        with pytest.raises(InvalidRequest, match=says):
            async with TenantUnitOfWork(db, catalogue.tenant) as conn:
                await stay_availability(conn, service, catalogue.monday, nights, TZ)


@pytest.mark.parametrize(("days", "says"), [(-1, "ends .* before it starts"),
                                             (62, "at most 62 days")])
async def test_availability_of_a_reversed_or_too_long_range_is_refused(
    db: asyncpg.Pool, catalogue: Catalogue, days: int, says: str,
) -> None:
    with pytest.raises(InvalidRequest, match=says):
        async with TenantUnitOfWork(db, catalogue.tenant) as conn:
            await availability(conn, catalogue.cleaning, None, catalogue.monday,
                               catalogue.monday + dt.timedelta(days=days), TZ)
