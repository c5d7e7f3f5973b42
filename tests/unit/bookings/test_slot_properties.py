"""Properties of the availability math over generated schedules and bookings: what is offered
can be booked, nothing offered overlaps more bookings than the resource has places, and
everything offered lies inside working hours."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from simptu.runtime.core.bookings.availability import (
    Span,
    free_slots,
    places_left,
    requested_span,
)
from simptu.runtime.core.bookings.models import OpeningHours, Service
from simptu.runtime.core.bookings.schedule import WorkingHours, days

TZ = ZoneInfo("Europe/Bucharest")
# A week that contains the autumn time change (Sunday 26 October 2031).
FIRST, LAST = dt.date(2031, 10, 20), dt.date(2031, 10, 26)
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

quarter_hours = st.integers(min_value=0, max_value=95).map(
    lambda q: dt.time(q // 4, q % 4 * 15))
weekly_hours = st.tuples(st.integers(1, 7), quarter_hours, quarter_hours).filter(
    lambda t: t[1] < t[2]).map(lambda t: OpeningHours(weekday=t[0], opens=t[1], closes=t[2]))
services = st.builds(
    lambda minutes, buffer: Service(id=uuid.uuid4(), name="Generated", duration_minutes=minutes,
                                    buffer_minutes=buffer, price=Decimal(1), currency="RON"),
    st.sampled_from([15, 30, 45, 60, 90]), st.sampled_from([0, 5, 15]))
bookings = st.tuples(st.integers(0, 6 * 96), st.integers(1, 48)).map(
    lambda t: Span(dt.datetime.combine(FIRST, dt.time(), tzinfo=dt.UTC)
                   + dt.timedelta(minutes=15 * t[0]),
                   dt.datetime.combine(FIRST, dt.time(), tzinfo=dt.UTC)
                   + dt.timedelta(minutes=15 * (t[0] + t[1])),
                   dt.datetime.combine(FIRST, dt.time(), tzinfo=dt.UTC)
                   + dt.timedelta(minutes=15 * (t[0] + t[1]))))


@settings(max_examples=300, deadline=None)
@given(service=services, weekly=st.lists(weekly_hours, max_size=6),
       taken=st.lists(bookings, max_size=12), capacity=st.sampled_from([1, 3]),
       closed=st.sets(st.sampled_from(list(days(FIRST, LAST))), max_size=2))
def test_every_offered_slot_can_be_booked_and_is_within_capacity_and_hours(
    service: Service, weekly: list[OpeningHours], taken: list[Span], capacity: int,
    closed: set[dt.date],
) -> None:
    hours = WorkingHours(tuple(weekly), frozenset(closed))
    for slot in free_slots(service, uuid.uuid4(), capacity, hours, taken, FIRST, LAST, TZ,
                           LONG_AGO):
        span = requested_span(service, hours, slot.start, 1, TZ)
        assert (span.start, span.end) == (slot.start, slot.end)
        assert places_left(span, taken, capacity) == slot.places_left > 0
        assert any(window.start <= span.start and span.end <= window.end
                   for window in hours.windows(slot.start.astimezone(TZ).date(), TZ))
