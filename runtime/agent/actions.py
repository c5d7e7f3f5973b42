"""The agent's business actions (plain functions, not LangGraph tools): what it reads and
changes in the tenant's schema, through the booking engine, inside the turn's unit of work
(the tenant's role, one transaction with the reply); `TenantRepository` offers them to the
dialogue as its `AgentRepository`."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import asyncpg

from simptu.runtime.core import bookings
from simptu.runtime.core.bookings.models import Service, Slot
from simptu.runtime.core.channels.contacts import email_of, phone_of
from simptu.runtime.core.chat.actions import hand_off_in
from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.embeddings import Embedder
from simptu.runtime.core.knowledge import KnowledgeHit, search_entries
from simptu.runtime.core.language import Locale
from simptu.runtime.core.registry import TenantRecord

AGENT_SOURCE = "/simptu/agent"
CUSTOMERS = "customers"


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
    """A guest's first booking makes them a customer (their name sealed), tied to the session.
    On a phone channel the number is theirs too, on e-mail the address (sealed, with its blind
    index): a customer who wrote before is found by it, an access code can reach them, and so
    do the mails of their bookings."""
    existing = await customer_of_session(conn, session)
    if existing is not None:
        return existing
    phone, email = await phone_of(cipher, session), await email_of(cipher, session)
    index = await cipher.blind_index("phone", phone) if phone else None
    email_index = await cipher.blind_index("email", email) if email else None
    known = (index and await conn.fetchval(
        "SELECT id FROM customers WHERE phone_index = $1 LIMIT 1", index)) or (
        email_index and await conn.fetchval(
            "SELECT id FROM customers WHERE email_index = $1 LIMIT 1", email_index))
    if known:
        customer_id = known
    else:
        await conn.execute(
            "INSERT INTO customers (id, name, locale, phone, phone_index, email, email_index) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            customer_id, await cipher.seal(CUSTOMERS, "name", customer_id, name), locale,
            await cipher.seal(CUSTOMERS, "phone", customer_id, phone) if phone else None, index,
            await cipher.seal(CUSTOMERS, "email", customer_id, email) if email else None,
            email_index)
    await conn.execute("UPDATE chat_sessions SET customer_id = $2 WHERE id = $1",
                       session["id"], customer_id)
    return customer_id


async def faq_answer(conn: asyncpg.Connection, embedder: Embedder, text: str,
                     locale: Locale) -> KnowledgeHit | None:
    """The tenant's FAQ entry answering `text` (`conn` acting as the tenant): in `locale`
    first, then in any language; None when no entry answers it well enough."""
    if not text:
        return None
    hits = (await search_entries(conn, embedder, text, locale, limit=1)
            or await search_entries(conn, embedder, text, None, limit=1))
    return hits[0] if hits else None


async def hand_off(conn: asyncpg.Connection, tenant: TenantRecord,
                   session: asyncpg.Record) -> None:
    """Leave the conversation to staff: the session is handed off (announced on `events`),
    and the agent stays silent in it from now on."""
    await hand_off_in(conn, tenant, session["id"], "agent", source=AGENT_SOURCE)


@dataclass(frozen=True)
class TenantRepository:
    """`AgentRepository` over the tenant's schema, for one turn of one conversation."""

    conn: asyncpg.Connection
    cipher: TenantCipher
    tenant: TenantRecord
    session: asyncpg.Record
    tz: ZoneInfo
    embedder: Embedder | None = None  # for knowledge-base searches

    async def free_slots(self, service: Service, day: dt.date,
                         moving: uuid.UUID | None) -> list[Slot]:
        return await bookings.availability(self.conn, service.id, None, day, day, self.tz,
                                           ignore=moving)

    async def free_rooms(self, service: Service, check_in: dt.date, nights: int,
                         moving: uuid.UUID | None) -> list[Slot]:
        return await bookings.stay_availability(self.conn, service.id, check_in, nights,
                                                self.tz, ignore=moving)

    async def customer(self) -> uuid.UUID | None:
        return await customer_of_session(self.conn, self.session)

    async def become_customer(self, customer_id: uuid.UUID, name: str,
                              locale: Locale) -> uuid.UUID:
        return await become_customer(self.conn, self.cipher, self.session, customer_id, name,
                                     locale)

    async def next_booking(self) -> bookings.Booking | None:
        upcoming = await self.upcoming_bookings()
        return upcoming[0] if upcoming else None

    async def upcoming_bookings(self) -> list[bookings.Booking]:
        customer_id = await self.customer()
        if customer_id is None:
            return []
        return [b for b in await bookings.customer_bookings(self.conn, customer_id)
                if b.status == "booked"]

    async def faq_answer(self, text: str, locale: Locale) -> KnowledgeHit | None:
        if self.embedder is None:
            return None
        return await faq_answer(self.conn, self.embedder, text, locale)

    async def hand_off(self) -> None:
        await hand_off(self.conn, self.tenant, self.session)

    async def book(self, request: bookings.BookingRequest, key: str) -> bookings.Booking:
        return await bookings.book(self.conn, self.tenant.names, request, self.tz,
                                   idempotency_key=key)

    async def reschedule(self, request: bookings.RescheduleRequest,
                         key: str) -> bookings.Booking:
        return await bookings.reschedule(self.conn, self.tenant.names, request, self.tz,
                                         idempotency_key=key)

    async def cancel(self, request: bookings.CancelRequest, key: str) -> bookings.Booking:
        return await bookings.cancel(self.conn, self.tenant.names, request, idempotency_key=key)
