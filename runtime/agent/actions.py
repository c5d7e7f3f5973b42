"""The agent's business actions (plain functions, not LangGraph tools): what it reads and
changes in the tenant's schema, through the booking engine, inside the turn's unit of work
(the tenant's role, one transaction with the reply)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import asyncpg

from simptu.runtime.agent.language import Locale
from simptu.runtime.agent.templates import WEEKDAY_NAMES, say_list
from simptu.runtime.core import bookings
from simptu.runtime.core.bookings.models import Resource, Service, Slot
from simptu.runtime.core.chat import events as chat_events
from simptu.runtime.core.chat import store
from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.registry import TenantRecord

AGENT_SOURCE = "/simptu/agent"
CUSTOMERS = "customers"


@dataclass(frozen=True)
class Catalogue:
    services: list[Service]
    resources: list[Resource]

    def service_named(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)

    def service(self, service_id: uuid.UUID) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def resource(self, resource_id: uuid.UUID) -> Resource | None:
        return next((r for r in self.resources if r.id == resource_id), None)


async def load_catalogue(conn: asyncpg.Connection) -> Catalogue:
    return Catalogue(await bookings.list_services(conn), await bookings.list_resources(conn))


def say_price(price: Decimal, currency: str) -> str:
    return f"{price.normalize():f} {currency}"


def price_list(catalogue: Catalogue, locale: Locale) -> str:
    return say_list((f"{s.name} {say_price(s.price, s.currency)}" for s in catalogue.services),
                    locale)


def opening_hours(catalogue: Catalogue, locale: Locale) -> str:
    """When the business works: for each day, from the first resource's opening to the last
    one's closing; days with the same hours are said together ("luni-vineri 09:00-20:00")."""
    spans: dict[int, tuple[dt.time, dt.time]] = {}
    for resource in catalogue.resources:
        for hours in resource.hours:
            opens, closes = spans.get(hours.weekday, (hours.opens, hours.closes))
            spans[hours.weekday] = (min(opens, hours.opens), max(closes, hours.closes))
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


async def free_slots(conn: asyncpg.Connection, service: Service, day: dt.date, tz: ZoneInfo,
                     moving: uuid.UUID | None = None) -> list[Slot]:
    """The service's free slots on `day`; the booking being `moving` does not block any."""
    return await bookings.availability(conn, service.id, None, day, day, tz, ignore=moving)


async def free_rooms(conn: asyncpg.Connection, service: Service, check_in: dt.date, nights: int,
                     tz: ZoneInfo, moving: uuid.UUID | None = None) -> list[Slot]:
    """The rooms free for the whole stay; the stay being `moving` does not block any."""
    return await bookings.stay_availability(conn, service.id, check_in, nights, tz,
                                            ignore=moving)


async def customer_of_session(conn: asyncpg.Connection,
                             session: asyncpg.Record) -> uuid.UUID | None:
    """Who this conversation books as: its customer, or its owner when that is a customer
    account (realm subjects are UUIDs); None for a guest who has not booked yet."""
    if session["customer_id"] is not None:
        return uuid.UUID(str(session["customer_id"]))
    if session["guest"] or session["owner_subject"] is None:
        return None
    try:
        customer_id = uuid.UUID(session["owner_subject"])
    except ValueError:
        return None
    await conn.execute("INSERT INTO customers (id) VALUES ($1) ON CONFLICT DO NOTHING",
                       customer_id)
    return customer_id


async def become_customer(conn: asyncpg.Connection, cipher: TenantCipher,
                          session: asyncpg.Record, customer_id: uuid.UUID, name: str,
                          locale: Locale) -> uuid.UUID:
    """A guest's first booking makes them a customer (their name sealed), tied to the session."""
    existing = await customer_of_session(conn, session)
    if existing is not None:
        return existing
    await conn.execute(
        "INSERT INTO customers (id, name, locale) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        customer_id, await cipher.seal(CUSTOMERS, "name", customer_id, name), locale)
    await conn.execute("UPDATE chat_sessions SET customer_id = $2 WHERE id = $1",
                       session["id"], customer_id)
    return customer_id


async def next_booking(conn: asyncpg.Connection,
                       customer_id: uuid.UUID | None) -> bookings.Booking | None:
    if customer_id is None:
        return None
    upcoming = [b for b in await bookings.customer_bookings(conn, customer_id)
                if b.status == "booked"]
    return upcoming[0] if upcoming else None


async def hand_off(conn: asyncpg.Connection, tenant: TenantRecord,
                   session: asyncpg.Record) -> None:
    """Leave the conversation to staff: the session is handed off (announced on `events`),
    and the agent stays silent in it from now on."""
    changed = await store.set_status(conn, session["id"], "handed_off", handed_off_by="agent")
    await chat_events.session_changed(conn, tenant, changed, "handed_off", source=AGENT_SOURCE)
