"""Envelope encryption benchmark against the running local stack; prints a markdown table.

    .venv/bin/python bench/bench_crypto.py [--rows N] [--fields N]

Provisions a throwaway tenant (schema, migrations, registry row, transit key, data keys) the
way the operator does, measures sealed-field throughput, customer rows written and read with
encryption on and off (one row per unit of work, as API requests do, and in bulk), and
transit calls per 10,000 field operations once the keys are cached,
then removes the tenant and destroys its transit key.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.runtime.core.crypto.cipher import TenantCipher
from simptu.runtime.core.crypto.datakeys import ensure_data_key
from simptu.runtime.core.crypto.keyring import KeyRing
from simptu.runtime.core.crypto.transit import OpenBaoTransit, transit_calls_total
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.migrations import migrate_platform, migrate_tenant
from simptu.runtime.core.registry import TenantRecord, delete_tenant, upsert_tenant
from simptu.runtime.core.schemas import drop_tenant_schema, ensure_tenant_schema
from simptu.runtime.core.tenancy import TenantNames

FIELD = ("x" * 100).encode()  # a 100-byte field
SEALED = ("name", "phone", "email", "notes")
INSERT = ("INSERT INTO customers (id, name, phone, email, notes, phone_index, email_index) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7)")
BATCH = 500  # rows per transaction


@dataclass
class Services:
    pool: asyncpg.Pool
    redis: aioredis.Redis
    keystore: OpenBaoTransit


def person(i: int) -> dict[str, str]:
    return {"name": f"Customer Number {i:06d}", "phone": f"+40 722 {i:06d}",
            "email": f"customer.{i:06d}@clinic.example",
            "notes": f"Prefers morning appointments; last visit note {i:06d}. " * 2}


async def timed(work: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


async def provision(s: Services, tenant: TenantNames) -> None:
    async with s.pool.acquire() as conn:
        await migrate_platform(conn)
        await ensure_tenant_schema(conn, tenant)
        await migrate_tenant(conn, tenant)
        await upsert_tenant(conn, s.redis, TenantRecord(
            slug=tenant.slug, status="Ready", business_type="dental-clinic",
            schema_name=tenant.schema, transit_key=tenant.transit_key))
        await ensure_data_key(conn, s.keystore, tenant)


async def remove(s: Services, tenant: TenantNames) -> None:
    await s.keystore.destroy_key(tenant.transit_key)
    async with s.pool.acquire() as conn:
        await delete_tenant(conn, s.redis, tenant.slug)
        await drop_tenant_schema(conn, tenant)


async def field_rates(cipher: TenantCipher, count: int) -> tuple[float, float]:
    """Seals and opens per second of a 100-byte field."""
    row = uuid.uuid4()
    sealed: list[bytes] = []

    async def seal_all() -> None:
        for _ in range(count):
            sealed.append(await cipher.seal("customers", "notes", row, FIELD))

    async def open_all() -> None:
        for value in sealed:
            await cipher.open("customers", "notes", row, value)

    return count / await timed(seal_all), count / await timed(open_all)


async def sealed_row(cipher: TenantCipher, row_id: uuid.UUID, i: int) -> tuple[object, ...]:
    values = person(i)
    fields = [await cipher.seal("customers", c, row_id, values[c]) for c in SEALED]
    return (row_id, *fields, await cipher.blind_index("phone", values["phone"]),
            await cipher.blind_index("email", values["email"]))


def plain_row(row_id: uuid.UUID, i: int) -> tuple[object, ...]:
    values = person(i)
    return (row_id, *(values[c].encode() for c in SEALED),
            values["phone"].encode(), values["email"].lower().encode())


async def bulk_insert(s: Services, ring: KeyRing, tenant: TenantNames, rows: int,
                      encrypted: bool) -> list[uuid.UUID]:
    """`BATCH` rows per transaction and statement, as an import or a backfill writes."""
    ids = [uuid.uuid4() for _ in range(rows)]
    for start in range(0, rows, BATCH):
        async with TenantUnitOfWork(s.pool, tenant) as conn:
            cipher = ring.cipher(tenant, conn)
            batch = [await sealed_row(cipher, ids[i], i) if encrypted else plain_row(ids[i], i)
                     for i in range(start, min(start + BATCH, rows))]
            await conn.executemany(INSERT, batch)
    return ids


async def bulk_read(s: Services, ring: KeyRing, tenant: TenantNames, encrypted: bool) -> None:
    """Every row in one query, as an export or a report reads."""
    async with TenantUnitOfWork(s.pool, tenant) as conn:
        cipher = ring.cipher(tenant, conn)
        for row in await conn.fetch("SELECT id, name, phone, email, notes FROM customers"):
            await open_fields(cipher, row, encrypted)


async def open_fields(cipher: TenantCipher, row: asyncpg.Record, encrypted: bool) -> None:
    for column in SEALED:
        if encrypted:
            await cipher.open_text("customers", column, row["id"], row[column])
        else:
            row[column].decode()


async def request_insert(s: Services, ring: KeyRing, tenant: TenantNames, rows: int,
                         encrypted: bool) -> list[uuid.UUID]:
    """One row per unit of work, as an API request writes a customer."""
    ids = [uuid.uuid4() for _ in range(rows)]
    for i, row_id in enumerate(ids):
        async with TenantUnitOfWork(s.pool, tenant) as conn:
            cipher = ring.cipher(tenant, conn)
            row = await sealed_row(cipher, row_id, i) if encrypted else plain_row(row_id, i)
            await conn.execute(INSERT, *row)
    return ids


async def request_read(s: Services, ring: KeyRing, tenant: TenantNames, ids: list[uuid.UUID],
                       encrypted: bool) -> None:
    """One row per unit of work, as an API request reads a customer."""
    for row_id in ids:
        async with TenantUnitOfWork(s.pool, tenant) as conn:
            cipher = ring.cipher(tenant, conn)
            row = await conn.fetchrow("SELECT id, name, phone, email, notes FROM customers "
                                      "WHERE id = $1", row_id)
            await open_fields(cipher, row, encrypted)


@dataclass
class Rates:
    write: float = 0.0
    read: float = 0.0


async def row_rates(s: Services, ring: KeyRing, tenant: TenantNames, rows: int,
                    encrypted: bool, per_request: bool) -> Rates:
    """Rows written and read per second (best of three rounds, to damp noise)."""
    best = Rates()
    for _ in range(3):
        async with TenantUnitOfWork(s.pool, tenant) as conn:
            # CASCADE: bookings (and whatever else a migration adds) refer to customers.
            await conn.execute("TRUNCATE customers CASCADE")
        insert = request_insert if per_request else bulk_insert
        started = time.perf_counter()
        ids = await insert(s, ring, tenant, rows, encrypted)
        written = time.perf_counter()
        if per_request:
            await request_read(s, ring, tenant, ids, encrypted)
        else:
            await bulk_read(s, ring, tenant, encrypted)
        read = time.perf_counter()
        best.write = max(best.write, rows / (written - started))
        best.read = max(best.read, rows / (read - written))
    return best


async def transit_calls_per_10k(cipher: TenantCipher) -> float:
    row = uuid.uuid4()
    sealed = await cipher.seal("customers", "notes", row, FIELD)  # warm-up
    before = transit_calls_total()
    for i in range(5_000):
        sealed = await cipher.seal("customers", "notes", row, FIELD)
        await cipher.open("customers", "notes", row, sealed)
        if i % 1000 == 0:
            await cipher.blind_index("phone", f"+40 722 {i:06d}")
    return transit_calls_total() - before


def table(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| measure | value | goal |", "| --- | ---: | --- |"]
    lines += [f"| {what} | {value} | {goal} |" for what, value, goal in rows]
    return "\n".join(lines)


def compare(label: str, plain: Rates, sealed: Rates) -> list[tuple[str, str, str]]:
    return [
        (f"{label}: rows written/s, encryption off / on",
         f"{plain.write:,.0f} / {sealed.write:,.0f}", ""),
        (f"{label}: write slowdown", f"{plain.write / sealed.write:.2f}x", "<= 1.3x"),
        (f"{label}: rows read/s, encryption off / on",
         f"{plain.read:,.0f} / {sealed.read:,.0f}", ""),
        (f"{label}: read slowdown", f"{plain.read / sealed.read:.2f}x", "<= 1.3x"),
    ]


async def measure(s: Services, tenant: TenantNames, rows: int, fields: int) -> str:
    async with KeyRing(s.pool, s.keystore, s.redis) as ring:
        cipher = ring.cipher(tenant)
        sealed_per_s, opened_per_s = await field_rates(cipher, fields)
        per_request = [await row_rates(s, ring, tenant, rows // 5, encrypted, per_request=True)
                       for encrypted in (False, True)]
        bulk = [await row_rates(s, ring, tenant, rows, encrypted, per_request=False)
                for encrypted in (False, True)]
        calls = await transit_calls_per_10k(cipher)
    return table([
        ("sealed field encrypt (100 bytes)", f"{sealed_per_s:,.0f}/s", ""),
        ("sealed field decrypt (100 bytes)", f"{opened_per_s:,.0f}/s", ""),
        *compare("per request (1 row per unit of work)", *per_request),
        *compare(f"bulk ({BATCH} rows per statement)", *bulk),
        ("transit calls per 10,000 field operations after warm-up", f"{calls:.0f}", "1 or 0"),
    ])


@asynccontextmanager
async def throwaway_tenant() -> AsyncIterator[tuple[Services, TenantNames]]:
    """A tenant of the running stack for one benchmark (schema, keys, registry row), with the
    services it needs; removed at the end."""
    stack = StackEnv.load(DevstackSettings().env_file)
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=4)
    assert pool is not None
    s = Services(pool, aioredis.Redis.from_url(stack.redis_url),
                 OpenBaoTransit(stack["BAO_ADDR"], stack["BAO_TOKEN"]))
    tenant = TenantNames(f"bench-{uuid.uuid4().hex[:8]}")
    try:
        print(f"provisioning throwaway tenant {tenant.slug} ...", flush=True)
        await provision(s, tenant)
        yield s, tenant
    finally:
        await remove(s, tenant)
        await s.redis.aclose()
        await pool.close()


async def main(rows: int, fields: int) -> None:
    async with throwaway_tenant() as (s, tenant):
        print(f"measuring ({rows} rows, {fields} fields) ...", flush=True)
        print(await measure(s, tenant, rows, fields))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000, help="customer rows per round")
    parser.add_argument("--fields", type=int, default=50_000, help="fields sealed and opened")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.fields))
