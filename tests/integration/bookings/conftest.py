"""Fixtures for the booking engine: a tenant of this test's own with a small catalogue (two
dentists, a class of three, a hotel room), customers, and a future week to book in."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.bookings.booking import book
from simptu.runtime.core.bookings.catalogue import save_resource, save_service
from simptu.runtime.core.bookings.models import (
    Booking,
    BookingRequest,
    OpeningHours,
    ResourceSpec,
    ServiceSpec,
)
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events.cloudevents import CloudEvent
from simptu.runtime.core.tenancy import TenantNames

TZ = ZoneInfo("Europe/Bucharest")
MakeTenant = Callable[..., Awaitable[TenantNames]]
MakeCustomers = Callable[..., Awaitable[list[uuid.UUID]]]


def hours(weekday: int, opens: str, closes: str) -> OpeningHours:
    return OpeningHours(weekday=weekday, opens=dt.time.fromisoformat(opens),
                           closes=dt.time.fromisoformat(closes))


def local(day: dt.date, time: str) -> dt.datetime:
    """`time` on `day` in the test tenant's timezone."""
    return dt.datetime.combine(day, dt.time.fromisoformat(time), tzinfo=TZ)


@dataclass(frozen=True)
class Catalogue:
    """The ids of the test catalogue; `monday` is a Monday at least a week ahead."""

    tenant: TenantNames
    monday: dt.date
    cleaning: uuid.UUID       # 45 minutes + 15 buffer
    consultation: uuid.UUID   # 30 minutes
    yoga: uuid.UUID           # 60 minutes
    night: uuid.UUID          # check-in 14:00, check-out 11:00
    dr_ana: uuid.UUID         # Monday to Friday 09:00-12:00: cleaning, consultation
    dr_mihai: uuid.UUID       # Monday 09:00-10:00: consultation only
    yoga_class: uuid.UUID     # Monday 18:00-19:00, 3 places
    room: uuid.UUID           # every night

    def cleaning_at(self, customer: uuid.UUID, time: str = "09:00",
                    day: dt.date | None = None) -> BookingRequest:
        return BookingRequest(service_id=self.cleaning, resource_id=self.dr_ana,
                              customer_id=customer, start=local(day or self.monday, time))


async def seed_test_catalogue(conn: asyncpg.Connection, tenant: TenantNames) -> Catalogue:
    ids = {}
    for spec in (
        ServiceSpec(name="Cleaning", duration_minutes=45, buffer_minutes=15, price=Decimal(250),
                    currency="RON"),
        ServiceSpec(name="Consultation", duration_minutes=30, price=Decimal(150), currency="RON"),
        ServiceSpec(name="Yoga", duration_minutes=60, price=Decimal(40), currency="RON"),
        ServiceSpec(name="Double room", kind="night", duration_minutes=1440, price=Decimal(450),
                    currency="RON", check_in=dt.time(14), check_out=dt.time(11)),
    ):
        ids[spec.name] = (await save_service(conn, spec)).id
    for resource in (
        ResourceSpec(name="Dr Ana", kind="staff", services=["Cleaning", "Consultation"],
                     hours=[hours(day, "09:00", "12:00") for day in range(1, 6)]),
        ResourceSpec(name="Dr Mihai", kind="staff", services=["Consultation"],
                     hours=[hours(1, "09:00", "10:00")]),
        ResourceSpec(name="Yoga class", kind="class", capacity=3, services=["Yoga"],
                     hours=[hours(1, "18:00", "19:00")]),
        ResourceSpec(name="Room 1", kind="room", services=["Double room"],
                     hours=[hours(day, "00:00", "23:59") for day in range(1, 8)]),
    ):
        ids[resource.name] = (await save_resource(conn, resource)).id
    today = dt.datetime.now(TZ).date()
    monday = today + dt.timedelta(days=7 + (7 - today.weekday()) % 7)
    return Catalogue(tenant, monday, ids["Cleaning"], ids["Consultation"], ids["Yoga"],
                     ids["Double room"], ids["Dr Ana"], ids["Dr Mihai"], ids["Yoga class"],
                     ids["Room 1"])


@pytest.fixture
async def tenant(make_tenant: MakeTenant) -> TenantNames:
    return await make_tenant()


@pytest.fixture
async def catalogue(db: asyncpg.Pool, tenant: TenantNames) -> Catalogue:
    async with TenantUnitOfWork(db, tenant) as conn:
        return await seed_test_catalogue(conn, tenant)


@pytest.fixture
def make_customers(db: asyncpg.Pool) -> MakeCustomers:
    """Create `count` customers of `tenant`; returns their ids."""

    async def make(tenant: TenantNames, count: int = 1) -> list[uuid.UUID]:
        ids = [uuid.uuid4() for _ in range(count)]
        async with TenantUnitOfWork(db, tenant) as conn:
            await conn.executemany("INSERT INTO customers (id) VALUES ($1)", [(i,) for i in ids])
        return ids

    return make


@pytest.fixture
async def customer(catalogue: Catalogue, make_customers: MakeCustomers) -> uuid.UUID:
    [made] = await make_customers(catalogue.tenant)
    return made


@pytest.fixture
async def nine_and_eleven(db: asyncpg.Pool, catalogue: Catalogue,
                          make_customers: MakeCustomers) -> tuple[Booking, Booking]:
    """Two customers' cleanings with Dr Ana on Monday, at 09:00 and at 11:00."""
    first, second = await make_customers(catalogue.tenant, 2)
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        return (await book(conn, catalogue.tenant, catalogue.cleaning_at(first, "09:00"), TZ),
                await book(conn, catalogue.tenant, catalogue.cleaning_at(second, "11:00"), TZ))


@pytest.fixture
async def wide_pool(stack: StackEnv) -> AsyncIterator[asyncpg.Pool]:
    """A pool with a connection for each of 20 parallel requests."""
    pool = await asyncpg.create_pool(stack.database_url, min_size=20, max_size=20)
    assert pool is not None
    yield pool
    await pool.close()


async def bookings_of(db: asyncpg.Pool, tenant: TenantNames) -> list[asyncpg.Record]:
    async with TenantUnitOfWork(db, tenant) as conn:
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT * FROM bookings ORDER BY created_at")
    return rows


async def outbox_events(db: asyncpg.Pool, tenant: TenantNames) -> list[CloudEvent]:
    async with TenantUnitOfWork(db, tenant) as conn:
        rows = await conn.fetch("SELECT event FROM outbox ORDER BY id")
    return [CloudEvent.from_bytes(row["event"]) for row in rows]
