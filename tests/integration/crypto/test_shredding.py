"""Shredding a tenant destroys its transit key: its data is unreadable everywhere at once,
including in key rings that had its keys cached, and no other tenant is affected."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
import redis.asyncio as aioredis

from simptu.runtime.core.crypto.datakeys import ensure_data_key
from simptu.runtime.core.crypto.errors import TenantShredded
from simptu.runtime.core.crypto.keyring import KeyRing
from simptu.runtime.core.crypto.shredding import shred_tenant
from simptu.runtime.core.crypto.transit import OpenBaoTransit
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

Customer = dict[str, str]
MakeTenant = Callable[..., Awaitable[TenantNames]]
AddCustomers = Callable[[TenantNames, list[Customer]], Awaitable[list[uuid.UUID]]]
ReadCustomers = Callable[[TenantNames], Awaitable[dict[uuid.UUID, Customer]]]

ANA = {"name": "Ana Pop", "phone": "+40 700 000 001", "email": "ana@example.com",
       "notes": "crown on 36"}


async def sealed_name(db: asyncpg.Pool, tenant: TenantNames, row_id: uuid.UUID) -> bytes:
    async with TenantUnitOfWork(db, tenant) as conn:
        value: bytes = await conn.fetchval("SELECT name FROM customers WHERE id = $1", row_id)
        return value


async def eventually_shredded(ring: KeyRing, tenant: TenantNames, row_id: uuid.UUID,
                              sealed: bytes) -> TenantShredded:
    """The error a read gets once the ring has heard of the shredding (it travels by Redis)."""
    for _ in range(100):
        try:
            await ring.cipher(tenant).open("customers", "name", row_id, sealed)
        except TenantShredded as error:
            return error
        await asyncio.sleep(0.02)
    raise AssertionError("the key ring still opens the shredded tenant's data")


async def test_shredding_makes_data_unreadable_in_every_key_ring_and_spares_others(
    db: asyncpg.Pool, ring: KeyRing, other_ring: KeyRing, keystore: OpenBaoTransit,
    redis_client: aioredis.Redis, make_keyed_tenant: MakeTenant, add_customers: AddCustomers,
    read_customers: ReadCustomers
) -> None:
    doomed, spared = await make_keyed_tenant("doomed"), await make_keyed_tenant("spared")
    [ana] = await add_customers(doomed, [ANA])
    [ana_elsewhere] = await add_customers(spared, [ANA])
    sealed = await sealed_name(db, doomed, ana)
    assert await other_ring.cipher(doomed).open_text("customers", "name", ana, sealed) == "Ana Pop"

    assert await shred_tenant(keystore, doomed, redis_client, ring) >= 2  # both rings heard it

    error = await eventually_shredded(other_ring, doomed, ana, sealed)
    assert error.key_name == doomed.transit_key
    with pytest.raises(TenantShredded):
        await read_customers(doomed)
    with pytest.raises(TenantShredded):
        await ring.cipher(doomed).seal("customers", "name", ana, "new data")
    with pytest.raises(TenantShredded):
        await other_ring.cipher(doomed).blind_index("phone", ANA["phone"])
    async with KeyRing(db, keystore) as fresh_ring:  # a process started after the shredding
        with pytest.raises(TenantShredded):
            await fresh_ring.cipher(doomed).open("customers", "name", ana, sealed)
    assert await read_customers(spared) == {ana_elsewhere: ANA}
    assert await other_ring.cipher(spared).open_text(
        "customers", "name", ana_elsewhere, await sealed_name(db, spared, ana_elsewhere)
    ) == "Ana Pop"


async def test_provisioning_again_does_not_bring_a_shredded_tenant_back(
    db: asyncpg.Pool, keystore: OpenBaoTransit, redis_client: aioredis.Redis,
    make_keyed_tenant: MakeTenant
) -> None:
    tenant = await make_keyed_tenant()
    await shred_tenant(keystore, tenant, redis_client)
    async with db.acquire() as conn:
        with pytest.raises(TenantShredded):
            await ensure_data_key(conn, keystore, tenant)
    with pytest.raises(TenantShredded):
        await keystore.key_info(tenant.transit_key)  # no new transit key was made
    await shred_tenant(keystore, tenant, redis_client)  # shredding again is harmless
