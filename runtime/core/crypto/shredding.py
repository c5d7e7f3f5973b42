"""Crypto-shredding: destroying a tenant's transit key makes every copy of its sealed data
(Postgres, its backups and WAL, Redis, Kafka) undecryptable, since the data keys exist
only wrapped by that key.

The operator calls `shred_tenant` for `deletionPolicy: Shred`, then marks the tenant
`Shredded` in the registry. Processes that had the keys cached drop them when they hear the
announcement on the purge channel, and at the latest when their cache entry expires.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis

from simptu.runtime.core.crypto.keyring import KeyRing
from simptu.runtime.core.crypto.purge import announce_key_change
from simptu.runtime.core.crypto.transit import KeyStore
from simptu.runtime.core.tenancy import TenantNames

log = logging.getLogger(__name__)


async def shred_tenant(keystore: KeyStore, tenant: TenantNames, redis: aioredis.Redis,
                       ring: KeyRing | None = None) -> int:
    """Destroy the tenant's transit key and tell every key ring; idempotent, so a failed
    announcement is retried by calling it again. Returns how many key rings heard it."""
    await keystore.destroy_key(tenant.transit_key)
    log.warning("destroyed transit key %s: tenant %s is shredded", tenant.transit_key,
                tenant.slug, extra={"tenant": tenant.slug})
    if ring is not None:
        ring.remember_shredded(tenant.slug)
    return await announce_key_change(redis, tenant.slug, "shredded")
