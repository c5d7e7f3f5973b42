"""Working hours: a resource's weekly hours and closed days turned into the concrete open
windows of given dates, in UTC. Pure functions, plus the query that loads the closed days."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import asyncpg

from simptu.runtime.core.bookings.models import OpeningHours, Resource


@dataclass(frozen=True)
class Window:
    """An open interval [start, end) in UTC."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class WorkingHours:
    """Everything that says when one resource works."""

    weekly: tuple[OpeningHours, ...]
    closed_days: frozenset[dt.date] = frozenset()

    def is_open_on(self, day: dt.date) -> bool:
        return day not in self.closed_days and any(
            hours.weekday == day.isoweekday() for hours in self.weekly)

    def windows(self, day: dt.date, tz: ZoneInfo) -> list[Window]:
        """The open windows of `day`, earliest first; none on a closed day."""
        if day in self.closed_days:
            return []
        return sorted((Window(at(day, hours.opens, tz), at(day, hours.closes, tz))
                       for hours in self.weekly if hours.weekday == day.isoweekday()),
                      key=lambda window: window.start)


def at(day: dt.date, time: dt.time, tz: ZoneInfo) -> dt.datetime:
    """`time` on `day` on the tenant's wall clock, as a UTC instant (arithmetic is done in UTC
    so that adding minutes across a daylight-saving change adds real minutes)."""
    return dt.datetime.combine(day, time, tzinfo=tz).astimezone(dt.UTC)


def days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """Every date from `first` to `last`, both included."""
    for offset in range((last - first).days + 1):
        yield first + dt.timedelta(days=offset)


async def load_working_hours(conn: asyncpg.Connection, resources: list[Resource],
                             first: dt.date, last: dt.date) -> dict[uuid.UUID, WorkingHours]:
    """The working hours of each resource, with the closed days between `first` and `last`
    (days the whole business is closed count for every resource)."""
    closed: dict[uuid.UUID | None, set[dt.date]] = {}
    for row in await conn.fetch(
            "SELECT resource_id, day FROM schedule_exceptions WHERE day BETWEEN $2 AND $3 "
            "AND (resource_id IS NULL OR resource_id = ANY($1::uuid[]))",
            [resource.id for resource in resources], first, last):
        closed.setdefault(row["resource_id"], set()).add(row["day"])
    everyone = closed.get(None, set())
    return {resource.id: WorkingHours(tuple(resource.hours),
                                      frozenset(everyone | closed.get(resource.id, set())))
            for resource in resources}
