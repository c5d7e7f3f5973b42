"""Rotation keeps every row readable: a transit key rotation rewraps the data keys without
touching rows; a data key rotation re-seals rows in a resumable job that survives a kill."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
import redis.asyncio as aioredis

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.crypto.keyring import KeyRing
from simptu.runtime.core.crypto.reencryption import ReencryptionProgress, reencrypt_table
from simptu.runtime.core.crypto.rotation import rotate_data_key, rotate_transit_key
from simptu.runtime.core.crypto.sealing import sealed_key_version
from simptu.runtime.core.crypto.transit import OpenBaoTransit
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

Customer = dict[str, str]
MakeTenant = Callable[..., Awaitable[TenantNames]]
AddCustomers = Callable[[TenantNames, list[Customer]], Awaitable[list[uuid.UUID]]]
ReadCustomers = Callable[[TenantNames], Awaitable[dict[uuid.UUID, Customer]]]
SEALED = ("name", "phone", "email", "notes")


def people(count: int) -> list[Customer]:
    return [{"name": f"Customer {i}", "phone": f"+40 700 {i:06d}",
             "email": f"customer{i}@example.com", "notes": f"note {i} " * 5}
            for i in range(count)]


async def raw_rows(db: asyncpg.Pool, tenant: TenantNames) -> dict[uuid.UUID, tuple[bytes, ...]]:
    async with TenantUnitOfWork(db, tenant) as conn:
        rows = await conn.fetch("SELECT id, name, phone, email, notes FROM customers")
    return {row["id"]: tuple(row[c] for c in SEALED) for row in rows}


async def key_versions(db: asyncpg.Pool, tenant: TenantNames) -> dict[uuid.UUID, set[int]]:
    """The data key versions each row's fields are sealed with."""
    return {row_id: {sealed_key_version(value) for value in values}
            for row_id, values in (await raw_rows(db, tenant)).items()}


async def job_state(db: asyncpg.Pool, tenant: TenantNames) -> asyncpg.Record:
    async with TenantUnitOfWork(db, tenant) as conn:
        state: asyncpg.Record = await conn.fetchrow("SELECT * FROM reencryption_jobs")
        return state


async def test_rotating_the_transit_key_rewraps_data_keys_and_leaves_rows_untouched(
    db: asyncpg.Pool, keystore: OpenBaoTransit, make_keyed_tenant: MakeTenant,
    add_customers: AddCustomers, read_customers: ReadCustomers
) -> None:
    tenant = await make_keyed_tenant()
    customers = people(5)
    await add_customers(tenant, customers)
    rows_before = await raw_rows(db, tenant)
    async with db.acquire() as conn:
        assert await rotate_transit_key(conn, keystore, tenant) == 2
    async with TenantUnitOfWork(db, tenant) as conn:
        wrapped = await conn.fetch("SELECT wrapped_key, transit_version FROM data_keys")
    assert {row["transit_version"] for row in wrapped} == {2}
    assert all(row["wrapped_key"].startswith("vault:v2:") for row in wrapped)
    assert await raw_rows(db, tenant) == rows_before
    async with KeyRing(db, keystore) as cold_ring:  # unwraps the rewrapped keys afresh
        cipher = cold_ring.cipher(tenant)
        for row_id, values in rows_before.items():
            assert await cipher.open_text("customers", "name", row_id, values[0]) in {
                c["name"] for c in customers}
    assert sorted((await read_customers(tenant)).values(), key=str) == sorted(customers, key=str)


async def test_rotating_the_data_key_then_re_encrypting_keeps_rows_and_indexes_valid(
    db: asyncpg.Pool, ring: KeyRing, keystore: OpenBaoTransit, redis_client: aioredis.Redis,
    make_keyed_tenant: MakeTenant, add_customers: AddCustomers, read_customers: ReadCustomers
) -> None:
    tenant = await make_keyed_tenant()
    customers = people(25)
    ids = await add_customers(tenant, customers)
    async with db.acquire() as conn:
        assert await rotate_data_key(conn, keystore, tenant, redis_client) == 2
    reports: list[ReencryptionProgress] = []
    final = await reencrypt_table(db, ring, tenant, "customers", batch_size=10,
                                  progress=reports.append)
    assert (final.done, final.rows_resealed, final.fields_resealed) == (True, 25, 100)
    assert [r.rows_resealed for r in reports if not r.done][:3] == [10, 20, 25]
    assert set().union(*(await key_versions(db, tenant)).values()) == {2}
    assert sorted((await read_customers(tenant)).values(), key=str) == sorted(customers, key=str)
    async with TenantUnitOfWork(db, tenant) as conn:
        found = await conn.fetchval("SELECT id FROM customers WHERE phone_index = $1",
                                    await ring.cipher(tenant).blind_index("phone",
                                                                          customers[7]["phone"]))
    assert found == ids[7]


async def test_every_key_ring_seals_with_the_new_data_key_once_it_is_announced(
    db: asyncpg.Pool, ring: KeyRing, other_ring: KeyRing, keystore: OpenBaoTransit,
    redis_client: aioredis.Redis, make_keyed_tenant: MakeTenant
) -> None:
    tenant = await make_keyed_tenant()
    row = uuid.uuid4()
    before = await other_ring.cipher(tenant).seal("customers", "notes", row, "x")
    assert sealed_key_version(before) == 1
    async with db.acquire() as conn:
        await rotate_data_key(conn, keystore, tenant, redis_client)
    for _ in range(100):  # the announcement travels through Redis
        after = await other_ring.cipher(tenant).seal("customers", "notes", row, "x")
        if sealed_key_version(after) == 2:
            break
        await asyncio.sleep(0.02)
    assert sealed_key_version(after) == 2
    assert await ring.cipher(tenant).open_text("customers", "notes", row, before) == "x"


async def test_a_re_encryption_job_killed_mid_way_resumes_and_finishes_once(
    db: asyncpg.Pool, ring: KeyRing, keystore: OpenBaoTransit, stack: StackEnv,
    make_keyed_tenant: MakeTenant, add_customers: AddCustomers, read_customers: ReadCustomers
) -> None:
    tenant = await make_keyed_tenant()
    customers = people(120)
    await add_customers(tenant, customers)
    async with db.acquire() as conn:
        await rotate_data_key(conn, keystore, tenant)
    job = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simptu.runtime.core.crypto", "reencrypt", "--tenant", tenant.slug,
        "--table", "customers", "--batch-size", "10", "--pause", "0.5",
        stdout=asyncio.subprocess.PIPE, env=os.environ | stack.values)
    assert job.stdout is not None
    async with asyncio.timeout(60):
        reported = [await job.stdout.readline() for _ in range(3)]
    job.send_signal(signal.SIGKILL)  # mid-way, between two batches or inside one
    await job.wait()
    assert all(b"batch" in line for line in reported), reported

    killed = await job_state(db, tenant)
    versions = await key_versions(db, tenant)
    moved = [row for row, found in versions.items() if found == {2}]
    assert killed["status"] == "running"
    assert 30 <= killed["rows_resealed"] == len(moved) < 120  # progress and rows agree
    assert all(found in ({1}, {2}) for found in versions.values())  # no half-moved row

    final = await reencrypt_table(db, ring, tenant, "customers", batch_size=10)
    assert (final.done, final.rows_resealed, final.fields_resealed) == (True, 120, 480)
    assert set().union(*(await key_versions(db, tenant)).values()) == {2}
    assert sorted((await read_customers(tenant)).values(), key=str) == sorted(customers, key=str)


async def test_a_job_stopped_after_a_batch_resumes_and_a_finished_job_does_nothing(
    db: asyncpg.Pool, ring: KeyRing, keystore: OpenBaoTransit, make_keyed_tenant: MakeTenant,
    add_customers: AddCustomers
) -> None:
    tenant = await make_keyed_tenant()
    await add_customers(tenant, people(30))
    async with db.acquire() as conn:
        await rotate_data_key(conn, keystore, tenant)

    def crash_after_two_batches(state: ReencryptionProgress) -> None:
        if state.batches == 2:
            raise RuntimeError("worker crashed")

    with pytest.raises(RuntimeError, match="worker crashed"):
        await reencrypt_table(db, ring, tenant, "customers", batch_size=10,
                              progress=crash_after_two_batches)
    assert (await job_state(db, tenant))["rows_resealed"] == 20
    assert (await reencrypt_table(db, ring, tenant, "customers", batch_size=10)).done
    rows_after = await raw_rows(db, tenant)
    again = await reencrypt_table(db, ring, tenant, "customers", batch_size=10)
    assert (again.done, again.rows_resealed) == (True, 30)
    assert await raw_rows(db, tenant) == rows_after  # nothing re-sealed twice
