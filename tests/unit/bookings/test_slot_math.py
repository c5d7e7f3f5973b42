"""Availability math without a database: working windows, slots, buffers, capacity, nights."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from simptu.runtime.core.bookings.availability import (
    Span,
    free_slots,
    night_stay,
    offered_spans,
    requested_span,
)
from simptu.runtime.core.bookings.errors import OutsideSchedule
from simptu.runtime.core.bookings.models import OpeningHours, Service
from simptu.runtime.core.bookings.schedule import WorkingHours

TZ = ZoneInfo("Europe/Bucharest")
MONDAY = dt.date(2031, 6, 2)
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
CLEANING = Service(id=uuid.uuid4(), name="Cleaning", duration_minutes=45, buffer_minutes=15,
                   price=Decimal(250), currency="RON")
NIGHT = Service(id=uuid.uuid4(), name="Double room", kind="night", duration_minutes=1440,
                price=Decimal(450), currency="RON", check_in=dt.time(14), check_out=dt.time(11))
MONDAY_MORNING = WorkingHours((OpeningHours(weekday=1, opens=dt.time(9), closes=dt.time(11)),))
EVERY_DAY = WorkingHours(tuple(OpeningHours(weekday=day, opens=dt.time(0), closes=dt.time(23, 59))
                               for day in range(1, 8)))


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def starts(spans: list[Span]) -> list[str]:
    return [f"{span.start.astimezone(TZ):%H:%M}" for span in spans]


def test_slots_start_every_quarter_hour_and_end_within_the_window() -> None:
    spans = offered_spans(CLEANING, MONDAY_MORNING, MONDAY, TZ)
    assert starts(spans) == ["09:00", "09:15", "09:30", "09:45", "10:00", "10:15"]
    assert spans[-1].end == local(MONDAY, 11)
    assert spans[-1].busy_until == local(MONDAY, 11, 15)


def test_a_split_shift_gives_slots_in_each_part_only() -> None:
    split = WorkingHours((OpeningHours(weekday=1, opens=dt.time(14), closes=dt.time(15)),
                          OpeningHours(weekday=1, opens=dt.time(9), closes=dt.time(10))))
    assert starts(offered_spans(CLEANING, split, MONDAY, TZ)) == ["09:00", "09:15", "14:00",
                                                                  "14:15"]


def test_no_slots_on_a_closed_day_or_a_day_without_hours() -> None:
    closed = WorkingHours(MONDAY_MORNING.weekly, frozenset({MONDAY}))
    assert offered_spans(CLEANING, closed, MONDAY, TZ) == []
    assert offered_spans(CLEANING, MONDAY_MORNING, MONDAY + dt.timedelta(days=1), TZ) == []


def test_a_booking_and_its_buffer_hide_the_slots_they_overlap() -> None:
    booked = Span(local(MONDAY, 9, 15), local(MONDAY, 10), local(MONDAY, 10, 15))
    slots = free_slots(CLEANING, uuid.uuid4(), 1, MONDAY_MORNING, [booked], MONDAY, MONDAY, TZ,
                       LONG_AGO)
    # 09:00 would run into the booking; 10:15 is the first start after its buffer.
    assert [f"{slot.start.astimezone(TZ):%H:%M}" for slot in slots] == ["10:15"]


def test_a_class_stays_offered_until_its_places_are_taken() -> None:
    yoga = Service(id=uuid.uuid4(), name="Yoga", duration_minutes=60, price=Decimal(40),
                   currency="RON")
    session = WorkingHours((OpeningHours(weekday=1, opens=dt.time(18), closes=dt.time(19)),))
    taken = Span(local(MONDAY, 18), local(MONDAY, 19), local(MONDAY, 19))
    [slot] = free_slots(yoga, uuid.uuid4(), 3, session, [taken, taken], MONDAY, MONDAY, TZ,
                        LONG_AGO)
    assert slot.places_left == 1
    assert free_slots(yoga, uuid.uuid4(), 3, session, [taken] * 3, MONDAY, MONDAY, TZ,
                      LONG_AGO) == []


def test_slots_that_started_already_are_not_offered() -> None:
    slots = free_slots(CLEANING, uuid.uuid4(), 1, MONDAY_MORNING, [], MONDAY, MONDAY, TZ,
                       now=local(MONDAY, 9, 50))
    assert [f"{slot.start.astimezone(TZ):%H:%M}" for slot in slots] == ["10:00", "10:15"]


def test_a_night_across_the_spring_time_change_lasts_one_hour_less() -> None:
    # Europe/Bucharest moves from +02:00 to +03:00 early on Sunday 30 March 2031.
    stay = night_stay(NIGHT, dt.date(2031, 3, 29), 1, TZ)
    assert stay.end - stay.start == dt.timedelta(hours=20)
    assert stay.start == dt.datetime(2031, 3, 29, 12, tzinfo=dt.UTC)


def test_a_stay_runs_from_check_in_to_check_out_nights_later() -> None:
    stay = requested_span(NIGHT, EVERY_DAY, local(MONDAY, 14), 3, TZ)
    assert (stay.start, stay.end) == (local(MONDAY, 14), local(MONDAY + dt.timedelta(days=3), 11))


def test_same_day_check_out_and_check_in_do_not_overlap() -> None:
    first = night_stay(NIGHT, MONDAY, 2, TZ)
    assert not first.overlaps(night_stay(NIGHT, MONDAY + dt.timedelta(days=2), 1, TZ))
    assert first.overlaps(night_stay(NIGHT, MONDAY + dt.timedelta(days=1), 1, TZ))


@pytest.mark.parametrize(("service", "hours", "start", "nights", "says"), [
    (CLEANING, MONDAY_MORNING, local(MONDAY, 9, 5), 1, "hours are 09:00-11:00"),
    (CLEANING, MONDAY_MORNING, local(MONDAY, 10, 30), 1, "cannot start at"),
    (CLEANING, MONDAY_MORNING, local(MONDAY + dt.timedelta(days=1), 9), 1, "hours are closed"),
    (NIGHT, EVERY_DAY, local(MONDAY, 12), 1, "check-in for Double room is at 14:00"),
    (NIGHT, WorkingHours(EVERY_DAY.weekly, frozenset({MONDAY + dt.timedelta(days=1)})),
     local(MONDAY, 14), 2, "night of 2031-06-03"),
])
def test_a_start_the_schedule_does_not_offer_is_refused_with_the_reason(
    service: Service, hours: WorkingHours, start: dt.datetime, nights: int, says: str,
) -> None:
    with pytest.raises(OutsideSchedule, match=says):
        requested_span(service, hours, start, nights, TZ)


def test_a_stay_of_three_nights_hides_each_of_its_nights_and_no_other() -> None:
    stay = night_stay(NIGHT, MONDAY + dt.timedelta(days=1), 3, TZ)
    slots = free_slots(NIGHT, uuid.uuid4(), 1, EVERY_DAY, [stay], MONDAY,
                       MONDAY + dt.timedelta(days=6), TZ, LONG_AGO)
    assert [(slot.start.astimezone(TZ).date() - MONDAY).days for slot in slots] == [0, 4, 5, 6]
