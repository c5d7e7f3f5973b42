"""A tenant's data keys in its `data_keys` table, always wrapped by its transit key:
provisioning the first ones, adding a version on rotation, reading them back.

Unwrapping and caching is the key ring's job (`keyring.py`); nothing here sees a plaintext key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import asyncpg

from simptu.runtime.core.crypto.errors import NoDataKey
from simptu.runtime.core.crypto.transit import KeyStore, wrapped_key_version
from simptu.runtime.core.database import tenant_transaction
from simptu.runtime.core.tenancy import TenantNames

Purpose = Literal["data", "index"]
PURPOSES: tuple[Purpose, ...] = ("data", "index")


@dataclass(frozen=True)
class StoredKey:
    purpose: Purpose
    version: int
    wrapped: str
    current: bool


async def lock_data_keys(conn: asyncpg.Connection, tenant: TenantNames) -> None:
    # Provisioning and rotation of one tenant's keys never interleave, across processes.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"data-keys:{tenant.slug}")


async def load_stored_keys(conn: asyncpg.Connection) -> list[StoredKey]:
    """Every wrapped key of the tenant whose transaction `conn` is in."""
    rows = await conn.fetch("SELECT purpose, version, wrapped_key, retired_at IS NULL AS current "
                            "FROM data_keys ORDER BY purpose, version")
    return [StoredKey(r["purpose"], r["version"], r["wrapped_key"], r["current"]) for r in rows]


async def _store_new_key(conn: asyncpg.Connection, keystore: KeyStore, tenant: TenantNames,
                         purpose: Purpose, version: int) -> None:
    wrapped = await keystore.generate_data_key(tenant.transit_key)
    await conn.execute(
        "INSERT INTO data_keys (purpose, version, wrapped_key, transit_version) "
        "VALUES ($1, $2, $3, $4)", purpose, version, wrapped, wrapped_key_version(wrapped))


async def ensure_data_key(conn: asyncpg.Connection, keystore: KeyStore,
                          tenant: TenantNames) -> int:
    """Provision the tenant's transit key, data key and index key if missing (idempotent);
    returns the current data key version. The operator calls this after the migrations."""
    async with tenant_transaction(conn, tenant):
        await lock_data_keys(conn, tenant)
        stored = await load_stored_keys(conn)
        if stored:
            # Never re-create the transit key of a tenant that has keys: if it was shredded, a
            # new one would not bring the data back, only hide that it is gone (TenantShredded).
            await keystore.key_info(tenant.transit_key)
        else:
            await keystore.ensure_key(tenant.transit_key)
        for purpose in PURPOSES:
            if not any(key.purpose == purpose for key in stored):
                await _store_new_key(conn, keystore, tenant, purpose, version=1)
        return await current_data_key_version(conn, tenant)


async def current_data_key_version(conn: asyncpg.Connection, tenant: TenantNames) -> int:
    version = await conn.fetchval(
        "SELECT version FROM data_keys WHERE purpose = 'data' AND retired_at IS NULL")
    if version is None:
        raise NoDataKey(f"tenant {tenant.slug!r} has no data key; provision it with "
                        "ensure_data_key")
    return int(version)


async def add_data_key_version(conn: asyncpg.Connection, keystore: KeyStore,
                               tenant: TenantNames) -> int:
    """A new data key version that seals from now on; older ones only open. Returns it."""
    async with tenant_transaction(conn, tenant):
        await lock_data_keys(conn, tenant)
        latest = await conn.fetchval("SELECT max(version) FROM data_keys WHERE purpose = 'data'")
        if latest is None:
            raise NoDataKey(f"tenant {tenant.slug!r} has no data key to rotate")
        await conn.execute("UPDATE data_keys SET retired_at = now() "
                           "WHERE purpose = 'data' AND retired_at IS NULL")
        await _store_new_key(conn, keystore, tenant, "data", latest + 1)
        return int(latest) + 1
