"""Fixtures of the Booking.com tests: a hotel tenant of the test's own (schema, keys and the
demo hotel's rooms, as the operator and `make up` make them), its Booking.com account, and the
stand-in of Booking.com's APIs served in-process."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from simptu.devstack.standins.booking_com import RunningStandin, serve
from simptu.runtime.channels.booking_com.client import BookingComClient
from simptu.runtime.channels.booking_com.poller import CHANNEL, BookingComPoller
from simptu.runtime.core.bookings.demo import seed_demo_catalogue
from simptu.runtime.core.channels.accounts import ChannelAccount, ChannelAccounts, save_account
from simptu.runtime.core.chat.actions import Conversations
from simptu.runtime.core.crypto import KeyRing, OpenBaoTransit
from simptu.runtime.core.crypto.datakeys import ensure_data_key
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord, TenantRegistry
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames

MakeTenant = Callable[..., Awaitable[TenantNames]]
PROPERTY = "7654321"
TIMEZONE = "Europe/Bucharest"


def stay(nights: int = 2, *, after: int = 0) -> tuple[dt.date, dt.date]:
    """Check-in and check-out dates of a stay some weeks ahead (the test's own hotel is
    empty, so any future date is free)."""
    check_in = dt.date.today() + dt.timedelta(days=30 + after)
    return check_in, check_in + dt.timedelta(days=nights)


def new_reservation_id() -> str:
    return str(random.randrange(10**9, 10**10))  # noqa: S311 - not a secret


@dataclass(frozen=True)
class Hotel:
    record: TenantRecord
    db: asyncpg.Pool
    key_ring: KeyRing

    @property
    def names(self) -> TenantNames:
        return self.record.names

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        async with TenantUnitOfWork(self.db, self.names) as conn:
            return list(await conn.fetch(query, *args))

    async def guest_names(self) -> list[str]:
        """The names of the hotel's customers, opened."""
        async with TenantUnitOfWork(self.db, self.names) as conn:
            cipher = self.key_ring.cipher(self.names, conn)
            rows = await conn.fetch("SELECT id, name FROM customers ORDER BY created_at")
            return [await cipher.open_text("customers", "name", row["id"], row["name"])
                    for row in rows if row["name"] is not None]


@pytest.fixture
async def hotel(db: asyncpg.Pool, core_settings: CoreSettings, key_ring: KeyRing,
                make_tenant: MakeTenant) -> AsyncIterator[Hotel]:
    keystore = OpenBaoTransit.from_settings(core_settings)
    names = await make_tenant("hotel", business_type="hotel")
    async with db.acquire() as conn:
        await ensure_data_key(conn, keystore, names)
        await conn.execute("UPDATE platform.tenants SET timezone = $2 WHERE slug = $1",
                           names.slug, TIMEZONE)
    async with TenantUnitOfWork(db, names) as conn:
        await seed_demo_catalogue(conn, "hotel")
    record = TenantRecord(slug=names.slug, status="Ready", business_type="hotel",
                          schema_name=names.schema, transit_key=names.transit_key,
                          locale="ro", timezone=TIMEZONE)
    yield Hotel(record, db, key_ring)
    await keystore.destroy_key(names.transit_key)


@pytest.fixture
async def standin() -> AsyncIterator[RunningStandin]:
    async with serve() as running:
        yield running


@dataclass(frozen=True)
class BookingCom:
    """The stand-in, steered through its control endpoints, and the hotel's account there."""

    standin: RunningStandin
    http: httpx.AsyncClient
    account: ChannelAccount

    async def control(self, path: str, body: object) -> None:
        answer = await self.http.post(f"{self.standin.url}/_standin/{path}", json=body)
        answer.raise_for_status()

    async def reserve(self, reservation_id: str, check_in: dt.date, check_out: dt.date, *,
                      status: str = "Commit", room: str = "Double room",
                      given_name: str = "Ana", surname: str = "Pop") -> None:
        await self.control("reservations", {
            "property_id": PROPERTY, "reservation_id": reservation_id, "status": status,
            "given_name": given_name, "surname": surname, "check_in": str(check_in),
            "check_out": str(check_out), "room_type_code": "2", "room_name": room,
            "total": "900.00", "currency": "RON"})


@pytest.fixture
async def booking_com(standin: RunningStandin, hotel: Hotel) -> AsyncIterator[BookingCom]:
    """The hotel's Booking.com account, in the stand-in and in the tenant (as the operator
    copies it from the tenant's Secret)."""
    credentials = {"username": f"machine-{uuid.uuid4().hex[:8]}", "password": "s3cret-pass"}
    account = ChannelAccount(CHANNEL, PROPERTY, credentials)
    async with TenantUnitOfWork(hotel.db, hotel.names) as conn:
        await save_account(conn, hotel.key_ring.cipher(hotel.names, conn), account, "v1")
    async with httpx.AsyncClient(timeout=10) as http:
        made = BookingCom(standin, http, account)
        await made.control("accounts", {**credentials, "property_ids": [PROPERTY]})
        yield made


@pytest.fixture
async def poller(db: asyncpg.Pool, key_ring: KeyRing, redis_client: aioredis.Redis,
                 booking_com: BookingCom) -> BookingComPoller:
    conversations = Conversations(db, key_ring, redis_client, "/simptu/tests", 4000)
    client = BookingComClient(booking_com.http, booking_com.standin.url,
                              booking_com.standin.url)
    return BookingComPoller(TenantRegistry(db, redis_client), ChannelAccounts(db, key_ring),
                            conversations, client)
