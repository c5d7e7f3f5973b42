"""Fixtures of the encryption tests: the real transit engine, key rings, tenants provisioned
with keys the way the operator does (on top of `make_tenant`), and sealed customers.

Every transit key a test makes is destroyed afterwards, before `make_tenant` drops the schema.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
import redis.asyncio as aioredis

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.crypto.datakeys import ensure_data_key
from simptu.runtime.core.crypto.keyring import KeyRing
from simptu.runtime.core.crypto.transit import OpenBaoTransit
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames

Customer = dict[str, str]  # name, phone, email, notes
MakeTenant = Callable[..., Awaitable[TenantNames]]
AddCustomers = Callable[[TenantNames, list[Customer]], Awaitable[list[uuid.UUID]]]
ReadCustomers = Callable[[TenantNames], Awaitable[dict[uuid.UUID, Customer]]]
SEALED = ("name", "phone", "email", "notes")

CUSTOMERS: list[Customer] = [
    {"name": "Ioana Vasilescu-Marinescu", "phone": "+40 722 555 0199",
     "email": "Ioana.Vasilescu@clinica-dentara.example",
     "notes": "Allergic to penicillin; prefers morning appointments"},
    {"name": "Bartholomew Quixley-Fairweather", "phone": "+44 20 7946 0321",
     "email": "bart.quixley@gym-members.example",
     "notes": "Knee surgery in March, no squats until cleared by physio"},
    {"name": "Zsuzsanna Kovalenko-Ortega", "phone": "+34 612 345 678",
     "email": "zsuzsa.ko@hotel-guests.example",
     "notes": "Anniversary stay, requests sea view room 412 and late checkout"},
]


@pytest.fixture(scope="session")
def keystore(core_settings: CoreSettings) -> OpenBaoTransit:
    return OpenBaoTransit.from_settings(core_settings)


@pytest.fixture
async def make_keyed_tenant(db: asyncpg.Pool, keystore: OpenBaoTransit,
                            make_tenant: MakeTenant) -> AsyncIterator[MakeTenant]:
    """Tenants provisioned with a transit key, a data key and an index key."""
    made: list[TenantNames] = []

    async def make(suffix: str = "a") -> TenantNames:
        tenant = await make_tenant(suffix)
        made.append(tenant)
        async with db.acquire() as conn:
            await ensure_data_key(conn, keystore, tenant)
        return tenant

    yield make
    for tenant in made:
        await keystore.destroy_key(tenant.transit_key)


@pytest.fixture
async def ring(db: asyncpg.Pool, keystore: OpenBaoTransit,
               redis_client: aioredis.Redis) -> AsyncIterator[KeyRing]:
    """A key ring listening for purges; its cache outlives every test (an hour)."""
    async with KeyRing(db, keystore, redis_client, ttl=3600) as key_ring:
        yield key_ring


@pytest.fixture
async def other_ring(stack: StackEnv, keystore: OpenBaoTransit) -> AsyncIterator[KeyRing]:
    """A second key ring with its own database pool and Redis connection, as another
    process (another API replica) has."""
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
    redis = aioredis.Redis.from_url(stack.redis_url)
    try:
        async with KeyRing(pool, keystore, redis, ttl=3600) as key_ring:
            yield key_ring
    finally:
        await redis.aclose()
        await pool.close()


@pytest.fixture
def add_customers(db: asyncpg.Pool, ring: KeyRing) -> AddCustomers:
    """Insert customers with every personal field sealed and phone/e-mail blind-indexed."""
    async def add(tenant: TenantNames, customers: list[Customer]) -> list[uuid.UUID]:
        ids = []
        async with TenantUnitOfWork(db, tenant) as conn:
            cipher = ring.cipher(tenant, conn)
            for customer in customers:
                row_id = uuid.uuid4()
                sealed = [await cipher.seal("customers", column, row_id, customer[column])
                          for column in SEALED]
                await conn.execute(
                    "INSERT INTO customers (id, name, phone, email, notes, phone_index, "
                    "email_index) VALUES ($1, $2, $3, $4, $5, $6, $7)", row_id, *sealed,
                    await cipher.blind_index("phone", customer["phone"]),
                    await cipher.blind_index("email", customer["email"]))
                ids.append(row_id)
        return ids
    return add


@pytest.fixture
def read_customers(db: asyncpg.Pool, ring: KeyRing) -> ReadCustomers:
    """Every customer of the tenant, opened."""
    async def read(tenant: TenantNames) -> dict[uuid.UUID, Customer]:
        async with TenantUnitOfWork(db, tenant) as conn:
            cipher = ring.cipher(tenant, conn)
            rows = await conn.fetch("SELECT id, name, phone, email, notes FROM customers")
            return {row["id"]: {column: await cipher.open_text("customers", column, row["id"],
                                                               row[column])
                                for column in SEALED}
                    for row in rows}
    return read
