"""Free slots: the starts a service offers on a resource (its working hours cut into slots, or
whole nights), minus closed days and what existing bookings already take."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import asyncpg
from pydantic import TypeAdapter

from simptu.runtime.core.bookings.catalogue import get_service, resources_offering
from simptu.runtime.core.bookings.errors import InvalidRequest, OutsideSchedule
from simptu.runtime.core.bookings.models import MAX_NIGHTS, Service, Slot
from simptu.runtime.core.bookings.schedule import WorkingHours, at, days, load_working_hours

# Appointments may start every quarter of an hour from the opening of a working window.
SLOT_STEP = dt.timedelta(minutes=15)
# One query covers at most two months: enough for any picker, bounded for the database.
MAX_DAYS = 62
# A slot of the last day may end days later: that day must still be a date.
LAST_DAY = dt.date.max - dt.timedelta(days=MAX_DAYS + 2)
SLOTS = TypeAdapter(list[Slot])


@dataclass(frozen=True)
class Span:
    """What one booking takes: the customer's [start, end), the resource until `busy_until`."""

    start: dt.datetime
    end: dt.datetime
    busy_until: dt.datetime

    def overlaps(self, other: Span) -> bool:
        return self.start < other.busy_until and other.start < self.busy_until


def night_stay(service: Service, check_in_day: dt.date, nights: int, tz: ZoneInfo) -> Span:
    """A stay from check-in on `check_in_day` to check-out `nights` days later."""
    assert service.check_in is not None
    assert service.check_out is not None
    end = at(check_in_day + dt.timedelta(days=nights), service.check_out, tz)
    return Span(at(check_in_day, service.check_in, tz), end,
                end + dt.timedelta(minutes=service.buffer_minutes))


def offered_spans(service: Service, hours: WorkingHours, day: dt.date,
                  tz: ZoneInfo) -> list[Span]:
    """Every span `service` offers on `day`, busy or not: slots on the quarter hour that end
    within a working window, or the one night that starts that day."""
    if service.kind == "night":
        return [night_stay(service, day, 1, tz)] if hours.is_open_on(day) else []
    duration = dt.timedelta(minutes=service.duration_minutes)
    buffer = dt.timedelta(minutes=service.buffer_minutes)
    spans = []
    for window in hours.windows(day, tz):
        start = window.start
        while start + duration <= window.end:
            spans.append(Span(start, start + duration, start + duration + buffer))
            start += SLOT_STEP
    return spans


def places_left(span: Span, taken: Sequence[Span], capacity: int) -> int:
    """How many more customers `span` takes, given the spans already booked."""
    return capacity - sum(1 for booked in taken if booked.overlaps(span))


def free_slots(service: Service, resource_id: uuid.UUID, capacity: int, hours: WorkingHours,
               taken: Sequence[Span], first: dt.date, last: dt.date, tz: ZoneInfo,
               now: dt.datetime) -> list[Slot]:
    """The slots of one resource that start after `now` and still have a place."""
    by_day = _by_local_day(taken, tz)
    slots: list[dict[str, object]] = []
    for day in days(first, last):
        spans = offered_spans(service, hours, day, tz)
        if not spans:
            continue
        # Only bookings on the days these spans touch can overlap them; by position, since
        # the bookings of one class session are equal spans.
        touched = days(day, max(span.busy_until for span in spans).astimezone(tz).date())
        nearby = [taken[index] for index in sorted({index for on in touched
                                                    for index in by_day.get(on, ())})]
        for span in spans:
            if span.start <= now:
                continue
            # Most days of most resources have no booking: nothing to count.
            left = places_left(span, nearby, capacity) if nearby else capacity
            if left > 0:
                slots.append({"service_id": service.id, "resource_id": resource_id,
                              "start": span.start, "end": span.end, "places_left": left})
    # One validation of the list: a week holds hundreds of slots, and building each model
    # through its own call cost twice as much.
    return SLOTS.validate_python(slots)


def _by_local_day(taken: Sequence[Span], tz: ZoneInfo) -> dict[dt.date, list[int]]:
    """The position of each booked span under every tenant-local day it touches."""
    by_day: dict[dt.date, list[int]] = {}
    for index, booked in enumerate(taken):
        for day in days(booked.start.astimezone(tz).date(),
                        booked.busy_until.astimezone(tz).date()):
            by_day.setdefault(day, []).append(index)
    return by_day


def requested_span(service: Service, hours: WorkingHours, start: dt.datetime, nights: int,
                   tz: ZoneInfo) -> Span:
    """The span a booking starting at `start` takes; `OutsideSchedule` unless `start` is one the
    service offers (a slot start, or check-in on a day when every night of the stay is open)."""
    local = start.astimezone(tz)
    if service.kind == "night":
        assert service.check_in is not None
        if local.time() != service.check_in:
            raise OutsideSchedule(f"check-in for {service.name} is at "
                                  f"{service.check_in:%H:%M}, not {local:%H:%M}")
        closed = [day for day in days(local.date(), local.date() + dt.timedelta(days=nights - 1))
                  if not hours.is_open_on(day)]
        if closed:
            raise OutsideSchedule(f"this room cannot be booked for the night of {closed[0]}")
        return night_stay(service, local.date(), nights, tz)
    for span in offered_spans(service, hours, local.date(), tz):
        if span.start == start:
            return span
    open_hours = ", ".join(f"{w.start.astimezone(tz):%H:%M}-{w.end.astimezone(tz):%H:%M}"
                           for w in hours.windows(local.date(), tz)) or "closed"
    raise OutsideSchedule(
        f"{service.name} cannot start at {local:%Y-%m-%d %H:%M}: that day's hours are "
        f"{open_hours}, and a {service.duration_minutes}-minute slot starts every "
        f"{SLOT_STEP.seconds // 60} minutes from the opening")


def check_date_range(first: dt.date, last: dt.date) -> None:
    if last < first:
        raise InvalidRequest(f"the range ends ({last}) before it starts ({first})")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidRequest(f"ask for at most {MAX_DAYS} days at a time")
    if last > LAST_DAY:
        raise InvalidRequest(f"ask for dates until {LAST_DAY}")


async def taken_spans(conn: asyncpg.Connection, resource_ids: list[uuid.UUID],
                      since: dt.datetime, until: dt.datetime,
                      ignore: uuid.UUID | None = None) -> dict[uuid.UUID, list[Span]]:
    """The booked spans of each resource that overlap [since, until), except booking `ignore`."""
    taken: dict[uuid.UUID, list[Span]] = {rid: [] for rid in resource_ids}
    for row in await conn.fetch(
            "SELECT resource_id, start_at, end_at, busy_until FROM bookings "
            "WHERE resource_id = ANY($1::uuid[]) AND status = 'booked' "
            "AND start_at < $3 AND busy_until > $2 AND id IS DISTINCT FROM $4",
            resource_ids, since, until, ignore):
        taken[row["resource_id"]].append(Span(row["start_at"], row["end_at"], row["busy_until"]))
    return taken


async def availability(conn: asyncpg.Connection, service_id: uuid.UUID,
                       resource_id: uuid.UUID | None, from_date: dt.date, to_date: dt.date,
                       tz: ZoneInfo, *, now: dt.datetime | None = None,
                       ignore: uuid.UUID | None = None) -> list[Slot]:
    """Free slots of a service from `from_date` to `to_date` (both included, tenant-local
    dates), on one resource or on every resource offering it; ordered by start. Booking
    `ignore` counts as free: the one being moved does not block where it may move to."""
    check_date_range(from_date, to_date)
    service = await get_service(conn, service_id)
    resources = await resources_offering(conn, service, resource_id)
    ids = [resource.id for resource in resources]
    hours = await load_working_hours(conn, resources, from_date, to_date)
    # A slot of the last day (or its night) may end on the next day.
    taken = await taken_spans(conn, ids, at(from_date, dt.time.min, tz),
                              at(to_date + dt.timedelta(days=2), dt.time.min, tz), ignore)
    now = now or dt.datetime.now(dt.UTC)
    slots = [slot for resource in resources
             for slot in free_slots(service, resource.id, resource.capacity, hours[resource.id],
                                    taken[resource.id], from_date, to_date, tz, now)]
    return sorted(slots, key=lambda slot: (slot.start, slot.resource_id))


async def stay_availability(conn: asyncpg.Connection, service_id: uuid.UUID,
                            check_in: dt.date, nights: int, tz: ZoneInfo, *,
                            now: dt.datetime | None = None,
                            ignore: uuid.UUID | None = None) -> list[Slot]:
    """For a night service: one slot per room free for every night of a stay, from check-in
    on `check_in` to check-out `nights` days later ("which rooms are free for three nights?")."""
    if not 1 <= nights <= MAX_NIGHTS:
        raise InvalidRequest(f"a stay has 1 to {MAX_NIGHTS} nights")
    service = await get_service(conn, service_id)
    if service.kind != "night":
        raise InvalidRequest(f"{service.name} is not booked by the night")
    free_nights: dict[uuid.UUID, int] = {}
    for slot in await availability(conn, service_id, None, check_in,
                                   check_in + dt.timedelta(days=nights - 1), tz, now=now,
                                   ignore=ignore):
        free_nights[slot.resource_id] = free_nights.get(slot.resource_id, 0) + 1
    stay = night_stay(service, check_in, nights, tz)
    return [Slot(service_id=service.id, resource_id=resource_id, start=stay.start, end=stay.end,
                 places_left=1)
            for resource_id, free in free_nights.items() if free == nights]
