"""A sealed value opens only where it was sealed, under its own tenant's key: any change,
move or foreign key is a typed error, never wrong plaintext."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from simptu.runtime.core.crypto.errors import DataKeyRejected, TamperedField
from simptu.runtime.core.crypto.keyring import KeyRing
from simptu.runtime.core.crypto.transit import OpenBaoTransit
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

Customer = dict[str, str]
MakeTenant = Callable[..., Awaitable[TenantNames]]
AddCustomers = Callable[[TenantNames, list[Customer]], Awaitable[list[uuid.UUID]]]

ANA = {"name": "Ana Pop", "phone": "+40 700 000 001", "email": "ana@example.com",
       "notes": "first visit"}
DAN = {"name": "Dan Ilie", "phone": "+40 700 000 002", "email": "dan@example.com",
       "notes": "second visit"}


async def stored(db: asyncpg.Pool, tenant: TenantNames, row_id: uuid.UUID,
                 column: str) -> bytes:
    async with TenantUnitOfWork(db, tenant) as conn:
        value: bytes = await conn.fetchval(f"SELECT {column} FROM customers WHERE id = $1",
                                           row_id)
        return value


async def store(db: asyncpg.Pool, tenant: TenantNames, row_id: uuid.UUID, column: str,
                value: bytes) -> None:
    async with TenantUnitOfWork(db, tenant) as conn:
        await conn.execute(f"UPDATE customers SET {column} = $2 WHERE id = $1", row_id, value)


async def open_stored(db: asyncpg.Pool, ring: KeyRing, tenant: TenantNames, row_id: uuid.UUID,
                      column: str) -> str:
    return await ring.cipher(tenant).open_text("customers", column, row_id,
                                               await stored(db, tenant, row_id, column))


async def test_a_flipped_bit_anywhere_fails_to_open(db: asyncpg.Pool, ring: KeyRing,
                                                    make_keyed_tenant: MakeTenant,
                                                    add_customers: AddCustomers) -> None:
    tenant = await make_keyed_tenant()
    [ana] = await add_customers(tenant, [ANA])
    original = await stored(db, tenant, ana, "notes")
    for position in (0, 1, 4, 5, 16, 17, len(original) - 17, len(original) - 1):
        flipped = bytearray(original)
        flipped[position] ^= 0x01
        await store(db, tenant, ana, "notes", bytes(flipped))
        with pytest.raises(TamperedField):
            await open_stored(db, ring, tenant, ana, "notes")
    await store(db, tenant, ana, "notes", original)
    assert await open_stored(db, ring, tenant, ana, "notes") == "first visit"


async def test_a_value_moved_to_another_row_fails_to_open(db: asyncpg.Pool, ring: KeyRing,
                                                          make_keyed_tenant: MakeTenant,
                                                          add_customers: AddCustomers) -> None:
    tenant = await make_keyed_tenant()
    ana, dan = await add_customers(tenant, [ANA, DAN])
    await store(db, tenant, dan, "notes", await stored(db, tenant, ana, "notes"))
    with pytest.raises(TamperedField, match="notes of row"):
        await open_stored(db, ring, tenant, dan, "notes")


async def test_a_value_moved_to_another_column_fails_to_open(
    db: asyncpg.Pool, ring: KeyRing, make_keyed_tenant: MakeTenant, add_customers: AddCustomers
) -> None:
    tenant = await make_keyed_tenant()
    [ana] = await add_customers(tenant, [ANA])
    await store(db, tenant, ana, "name", await stored(db, tenant, ana, "notes"))
    with pytest.raises(TamperedField):
        await open_stored(db, ring, tenant, ana, "name")


async def test_a_value_moved_to_another_tenant_fails_to_open(
    db: asyncpg.Pool, ring: KeyRing, make_keyed_tenant: MakeTenant, add_customers: AddCustomers
) -> None:
    clinic, gym = await make_keyed_tenant("clinic"), await make_keyed_tenant("gym")
    [ana_at_clinic] = await add_customers(clinic, [ANA])
    [ana_at_gym] = await add_customers(gym, [ANA])
    await store(db, gym, ana_at_gym, "notes", await stored(db, clinic, ana_at_clinic, "notes"))
    with pytest.raises(TamperedField):
        await open_stored(db, ring, gym, ana_at_gym, "notes")
    # Even at its own row id, another tenant's value does not open under this tenant's key.
    async with TenantUnitOfWork(db, gym) as conn:
        await conn.execute("INSERT INTO customers (id, notes) VALUES ($1, $2)", ana_at_clinic,
                           await stored(db, clinic, ana_at_clinic, "notes"))
    with pytest.raises(TamperedField):
        await open_stored(db, ring, gym, ana_at_clinic, "notes")


async def test_another_tenant_s_data_key_does_not_unwrap(db: asyncpg.Pool,
                                                         keystore: OpenBaoTransit,
                                                         make_keyed_tenant: MakeTenant) -> None:
    clinic, gym = await make_keyed_tenant("clinic"), await make_keyed_tenant("gym")
    async with TenantUnitOfWork(db, gym) as conn:
        gym_key = await conn.fetchval(
            "SELECT wrapped_key FROM data_keys WHERE purpose = 'data' AND version = 1")
    async with TenantUnitOfWork(db, clinic) as conn:
        await conn.execute("UPDATE data_keys SET wrapped_key = $1 WHERE purpose = 'data'",
                           gym_key)
    async with KeyRing(db, keystore) as fresh_ring:  # nothing cached
        with pytest.raises(DataKeyRejected):
            await fresh_ring.cipher(clinic).seal("customers", "notes", uuid.uuid4(), "x")
