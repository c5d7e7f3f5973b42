"""A read-through cache in Redis whose keys always carry the tenant, so no tenant can read
another's entries, with invalidation of one entry or of everything a tenant cached."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
from pydantic import BaseModel

from simptu.runtime.core.tenancy import TenantNames

PREFIX = "simptu:cache"
Model = TypeVar("Model", bound=BaseModel)


class TenantCache:
    def __init__(self, redis: aioredis.Redis, tenant: TenantNames, ttl: int = 300) -> None:
        self.redis = redis
        self.tenant = tenant
        self.ttl = ttl

    def key(self, name: str) -> str:
        # The tenant part is in braces: a Redis Cluster keeps one tenant's keys in one slot.
        return f"{PREFIX}:{{{self.tenant.slug}}}:{name}"

    async def get_or_load(self, name: str, model: type[Model],
                          load: Callable[[], Awaitable[Model]]) -> Model:
        """The cached value, or `load()`'s result, stored for `ttl` seconds."""
        cached = await self.redis.get(self.key(name))
        if cached is not None:
            return model.model_validate_json(cached)
        value = await load()
        await self.redis.set(self.key(name), value.model_dump_json(), ex=self.ttl)
        return value

    async def invalidate(self, *names: str) -> None:
        if names:
            await self.redis.delete(*(self.key(n) for n in names))

    async def invalidate_all(self) -> int:
        """Drop every cached entry of this tenant."""
        return await _delete_matching(self.redis, self.key("*"))


async def purge_tenant_keys(redis: aioredis.Redis, tenant: TenantNames) -> int:
    """Delete every key the platform keeps for a tenant (cache, sessions, rate limits): all
    carry `{<slug>}`. Deleting or shredding a tenant leaves nothing of it in Redis."""
    return await _delete_matching(redis, f"simptu:*:{{{tenant.slug}}}:*")


async def _delete_matching(redis: aioredis.Redis, pattern: str) -> int:
    removed = 0
    batch: list[bytes] = []
    async for key in redis.scan_iter(match=pattern, count=500):
        batch.append(key)
        if len(batch) == 500:
            removed += await redis.delete(*batch)
            batch.clear()
    if batch:
        removed += await redis.delete(*batch)
    return removed
