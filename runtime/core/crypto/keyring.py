"""The key ring: a process's unwrapped tenant keys, loaded on first use and kept in memory only.

A tenant's wrapped keys are read from its `data_keys` table and unwrapped by the transit engine
once, then cached (LRU, bounded in tenants, expiring after `ttl`). Nothing unwrapped is ever
written to Redis, Postgres or a log. Key changes announced on the purge channel (rotation,
shredding) drop the tenant's entry in every process; a shredded tenant is remembered, so its
reads fail fast with `TenantShredded` instead of asking the transit engine each time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

import asyncpg
import redis.asyncio as aioredis
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from simptu.runtime.core.crypto.blind_index import derive_column_key
from simptu.runtime.core.crypto.cipher import TenantCipher
from simptu.runtime.core.crypto.datakeys import (
    Purpose,
    StoredKey,
    load_stored_keys,
)
from simptu.runtime.core.crypto.errors import (
    DataKeyRejected,
    NoDataKey,
    TamperedField,
    TenantShredded,
)
from simptu.runtime.core.crypto.key_cache import ExpiringLRU
from simptu.runtime.core.crypto.purge import KeyChange, PurgeListener
from simptu.runtime.core.crypto.transit import KeyStore
from simptu.runtime.core.database import TenantUnitOfWork, tenant_transaction
from simptu.runtime.core.tenancy import TenantNames

log = logging.getLogger(__name__)

DATA_KEY_SIZE = 32


@dataclass
class TenantKeys:
    """One tenant's keys: all wrapped ones as loaded, unwrapped ones as they are needed."""

    wrapped: dict[tuple[Purpose, int], str]
    sealing_version: int
    data_keys: dict[int, AESGCM] = field(default_factory=dict)
    index_key: bytes | None = None
    column_keys: dict[str, bytes] = field(default_factory=dict)


def _tenant_keys(tenant: TenantNames, stored: list[StoredKey]) -> TenantKeys:
    current = [key.version for key in stored if key.purpose == "data" and key.current]
    if not current or not any(key.purpose == "index" for key in stored):
        raise NoDataKey(f"tenant {tenant.slug!r} has no data key; provision it with "
                        "ensure_data_key")
    return TenantKeys({(key.purpose, key.version): key.wrapped for key in stored},
                      sealing_version=current[0])


class KeyRing:
    """Unwrapped keys of many tenants for one process. `async with KeyRing(...) as ring:`
    (or `start()`/`aclose()`) listens for purges when given Redis."""

    def __init__(self, pool: asyncpg.Pool, keystore: KeyStore,
                 redis: aioredis.Redis | None = None, *, max_tenants: int = 1000,
                 ttl: float = 300.0, clock: Callable[[], float] = time.monotonic,
                 tenant: str | None = None) -> None:
        """`tenant`: a process serving that tenant only, which listens to its purges only."""
        self.pool = pool
        self.keystore = keystore
        self._cache: ExpiringLRU[str, TenantKeys] = ExpiringLRU(max_tenants, ttl, clock)
        self._shredded: ExpiringLRU[str, bool] = ExpiringLRU(max_tenants, ttl, clock)
        self._locks: dict[str, asyncio.Lock] = {}
        self._purges = 0  # bumped by every purge, so a load racing one is not cached
        self._listener = (PurgeListener(redis, self._on_key_change, self.forget_all,
                                        tenant=tenant)
                          if redis is not None else None)

    async def start(self) -> None:
        if self._listener is not None:
            await self._listener.start()

    async def aclose(self) -> None:
        if self._listener is not None:
            await self._listener.aclose()
        self.forget_all()

    async def __aenter__(self) -> KeyRing:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    def cipher(self, tenant: TenantNames, conn: asyncpg.Connection | None = None) -> TenantCipher:
        """The tenant's cipher; pass the unit of work's connection to load keys through it."""
        return TenantCipher(self, tenant, conn)

    def forget(self, slug: str) -> None:
        self._purges += 1
        self._cache.discard(slug)

    def forget_all(self) -> None:
        self._purges += 1
        self._cache.clear()

    def remember_shredded(self, slug: str) -> None:
        self.forget(slug)
        self._shredded.put(slug, True)

    def _on_key_change(self, change: KeyChange) -> None:
        log.info("dropping cached keys of tenant %s (%s)", change.tenant, change.reason,
                 extra={"tenant": change.tenant})
        if change.reason == "shredded":
            self.remember_shredded(change.tenant)
        else:
            self.forget(change.tenant)

    async def sealing_key(self, tenant: TenantNames,
                          conn: asyncpg.Connection | None = None) -> tuple[int, AESGCM]:
        """The current data key and its version: what new values are sealed with."""
        keys = self._cache.get(tenant.slug) or await self._keys(tenant, conn)
        version = keys.sealing_version
        return version, keys.data_keys.get(version) or await self._unwrap_data_key(
            tenant, keys, version)

    async def opening_key(self, tenant: TenantNames, version: int,
                          conn: asyncpg.Connection | None = None) -> AESGCM:
        """The data key of `version`, which a sealed value names."""
        keys = self._cache.get(tenant.slug) or await self._keys(tenant, conn)
        key = keys.data_keys.get(version)
        if key is not None:
            return key
        if ("data", version) not in keys.wrapped:
            # Sealed by a version added since we loaded (its announcement may have been lost).
            self.forget(tenant.slug)
            keys = await self._keys(tenant, conn)
        return keys.data_keys.get(version) or await self._unwrap_data_key(tenant, keys, version)

    async def column_index_key(self, tenant: TenantNames, column: str,
                               conn: asyncpg.Connection | None = None) -> bytes:
        """The HMAC key of the tenant's blind indexes on `column`."""
        keys = self._cache.get(tenant.slug) or await self._keys(tenant, conn)
        found = keys.column_keys.get(column)
        if found is None:
            if keys.index_key is None:
                keys.index_key = await self._unwrap(tenant, keys, ("index", 1))
            found = derive_column_key(keys.index_key, tenant.slug, column)
            keys.column_keys[column] = found
        return found

    async def _keys(self, tenant: TenantNames, conn: asyncpg.Connection | None) -> TenantKeys:
        """The tenant's keys after a cache miss: loaded once, however many callers wait."""
        async with self._lock(tenant.slug):
            if self._shredded.get(tenant.slug):
                raise TenantShredded(tenant.transit_key)
            keys = self._cache.get(tenant.slug)  # loaded while we waited
            if keys is None:
                purges_before = self._purges
                keys = await self._load(tenant, conn)
                if self._purges == purges_before:
                    self._cache.put(tenant.slug, keys)
            return keys

    def _lock(self, slug: str) -> asyncio.Lock:
        # One load per tenant at a time, so a cold cache costs one transit call, not one per
        # concurrent request. Locks of idle tenants are dropped when the table grows.
        if len(self._locks) > 4 * self._cache.max_entries:
            self._locks = {s: lock for s, lock in self._locks.items() if lock.locked()}
        return self._locks.setdefault(slug, asyncio.Lock())

    async def _load(self, tenant: TenantNames, conn: asyncpg.Connection | None) -> TenantKeys:
        if conn is not None:
            async with tenant_transaction(conn, tenant):
                stored = await load_stored_keys(conn)
        else:
            async with TenantUnitOfWork(self.pool, tenant) as own:
                stored = await load_stored_keys(own)
        keys = _tenant_keys(tenant, stored)
        # Unwrap the sealing key now: a shredded tenant fails here, before any cache entry.
        await self._unwrap_data_key(tenant, keys, keys.sealing_version)
        return keys

    async def _unwrap(self, tenant: TenantNames, keys: TenantKeys,
                      which: tuple[Purpose, int]) -> bytes:
        wrapped = keys.wrapped.get(which)
        if wrapped is None:
            raise TamperedField(f"tenant {tenant.slug!r} has no {which[0]} key version "
                                f"{which[1]}")
        try:
            plaintext = await self.keystore.unwrap(tenant.transit_key, wrapped)
        except TenantShredded:
            self.remember_shredded(tenant.slug)
            raise
        if len(plaintext) != DATA_KEY_SIZE:
            raise DataKeyRejected(f"tenant {tenant.slug!r}: {which[0]} key {which[1]} "
                                  f"unwrapped to {len(plaintext)} bytes, not {DATA_KEY_SIZE}")
        return plaintext

    async def _unwrap_data_key(self, tenant: TenantNames, keys: TenantKeys,
                               version: int) -> AESGCM:
        key = AESGCM(await self._unwrap(tenant, keys, ("data", version)))
        keys.data_keys[version] = key
        return key
