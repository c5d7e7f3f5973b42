"""The tenant's catalogue as the agent speaks of it: its services and resources, their prices
and the business's opening hours, said in the customer's language."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import asyncpg

from simptu.runtime.agent.templates import WEEKDAY_NAMES, say_list
from simptu.runtime.core import bookings
from simptu.runtime.core.bookings.models import Resource, Service
from simptu.runtime.core.bookings.schedule import load_working_hours
from simptu.runtime.core.language import Locale

# How far ahead the agent knows the days the business (or one resource) is closed.
CLOSED_DAYS_AHEAD = dt.timedelta(days=366)


@dataclass(frozen=True)
class Catalogue:
    services: list[Service]
    resources: list[Resource]
    # Per resource, the days it is closed although its weekly hours say open (a holiday).
    closed_days: Mapping[uuid.UUID, frozenset[dt.date]] = field(default_factory=dict)

    def said(self, service: Service, locale: Locale) -> str:
        """The service's name in the customer's language (its catalogue name when the tenant
        gave it none in that language)."""
        return service.name_in(locale)

    def vocabulary(self, synonyms: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        """Every service with the words customers use for it: its names in the tenant's
        languages and the business type's `synonyms`."""
        return {s.name: (*s.names.values(), *synonyms.get(s.name, ())) for s in self.services}

    def said_all(self, locale: Locale) -> list[str]:
        return [self.said(service, locale) for service in self.services]

    def service_named(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)

    def service(self, service_id: uuid.UUID) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def resource(self, resource_id: uuid.UUID) -> Resource | None:
        return next((r for r in self.resources if r.id == resource_id), None)


async def load_catalogue(conn: asyncpg.Connection, today: dt.date) -> Catalogue:
    resources = await bookings.list_resources(conn)
    working = await load_working_hours(conn, resources, today, today + CLOSED_DAYS_AHEAD)
    return Catalogue(await bookings.list_services(conn), resources,
                     {resource_id: hours.closed_days for resource_id, hours in working.items()})


def say_price(price: Decimal, currency: str) -> str:
    return f"{price.normalize():f} {currency}"


def price_list(catalogue: Catalogue, locale: Locale) -> str:
    return say_list((f"{catalogue.said(s, locale)} {say_price(s.price, s.currency)}"
                     for s in catalogue.services), locale)


def _spans(catalogue: Catalogue, on: dt.date | None = None) -> dict[int, tuple[dt.time, dt.time]]:
    """Per ISO weekday, the first resource's opening and the last one's closing; with `on`,
    of the resources not closed that day."""
    spans: dict[int, tuple[dt.time, dt.time]] = {}
    for resource in catalogue.resources:
        if on is not None and on in catalogue.closed_days.get(resource.id, frozenset()):
            continue
        for hours in resource.hours:
            opens, closes = spans.get(hours.weekday, (hours.opens, hours.closes))
            spans[hours.weekday] = (min(opens, hours.opens), max(closes, hours.closes))
    return spans


def hours_on(catalogue: Catalogue, day: dt.date) -> tuple[dt.time, dt.time] | None:
    """When the business opens and closes on `day`; None when it is closed (every day of
    that weekday, or that day only: a holiday)."""
    return _spans(catalogue, day).get(day.isoweekday())


def opening_hours(catalogue: Catalogue, locale: Locale) -> str:
    """When the business works: for each day, from the first resource's opening to the last
    one's closing; days with the same hours are said together ("luni-vineri 09:00-20:00")."""
    spans = _spans(catalogue)
    groups: dict[tuple[dt.time, dt.time], list[int]] = defaultdict(list)
    for weekday in sorted(spans):
        groups[spans[weekday]].append(weekday)
    names = WEEKDAY_NAMES[locale]
    said = []
    for (opens, closes), weekdays in groups.items():
        days = (f"{names[weekdays[0] - 1]}\N{EN DASH}{names[weekdays[-1] - 1]}"
                if len(weekdays) > 2 and weekdays == list(range(weekdays[0], weekdays[-1] + 1))
                else say_list((names[day - 1] for day in weekdays), locale))
        said.append(f"{days} {opens:%H:%M}\N{EN DASH}{closes:%H:%M}")
    return "; ".join(said)
