"""Key rotation. Rotating the transit key rewraps the stored data keys and leaves every row as
it is; rotating the data key adds a version that seals from now on, after which a
re-encryption job (`reencryption.py`) moves existing rows to it."""

from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis

from simptu.runtime.core.crypto.datakeys import (
    add_data_key_version,
    lock_data_keys,
)
from simptu.runtime.core.crypto.purge import announce_key_change
from simptu.runtime.core.crypto.transit import KeyStore, wrapped_key_version
from simptu.runtime.core.database import tenant_transaction
from simptu.runtime.core.tenancy import TenantNames


async def rewrap_data_keys(conn: asyncpg.Connection, keystore: KeyStore,
                           tenant: TenantNames) -> int:
    """Wrap every stored key of the tenant with the latest transit key version; returns how
    many were rewrapped. The keys themselves, hence every sealed row, stay the same."""
    async with tenant_transaction(conn, tenant):
        await lock_data_keys(conn, tenant)
        rows = await conn.fetch("SELECT purpose, version, wrapped_key FROM data_keys")
        for row in rows:
            rewrapped = await keystore.rewrap(tenant.transit_key, row["wrapped_key"])
            await conn.execute(
                "UPDATE data_keys SET wrapped_key = $3, transit_version = $4, rewrapped_at = now()"
                " WHERE purpose = $1 AND version = $2",
                row["purpose"], row["version"], rewrapped, wrapped_key_version(rewrapped))
    return len(rows)


async def rotate_transit_key(conn: asyncpg.Connection, keystore: KeyStore,
                             tenant: TenantNames) -> int:
    """A new version of the tenant's transit key, then every data key rewrapped with it;
    returns the new transit key version."""
    version = await keystore.rotate_key(tenant.transit_key)
    await rewrap_data_keys(conn, keystore, tenant)
    return version


async def rotate_data_key(conn: asyncpg.Connection, keystore: KeyStore, tenant: TenantNames,
                          redis: aioredis.Redis | None = None) -> int:
    """A new data key version that seals from now on; returns it. Every process is told at
    once (through `redis`), so new writes stop using the old version; run a re-encryption job
    afterwards to move existing rows."""
    version = await add_data_key_version(conn, keystore, tenant)
    if redis is not None:
        await announce_key_change(redis, tenant.slug, "rotated")
    return version
