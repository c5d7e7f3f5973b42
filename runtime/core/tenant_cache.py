"""A read-through cache in Redis whose keys always carry the tenant, so no tenant can read
another's entries, with invalidation of one entry or of everything a tenant cached.

Reads of one kind (a list's pages, its items) are kept together as a *collection*, a Redis
hash that one write invalidates whole. A read loaded while a write commits could otherwise put
the old rows back after the write invalidated them: the collection carries a generation that
every invalidation renews, and a read is stored only if the generation it started under is
still the current one."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

import redis.asyncio as aioredis
from pydantic import BaseModel

from simptu.runtime.core.tenancy import TenantNames

PREFIX = "simptu:cache"
# Every invalidated collection's key is published on its tenant's channel, for processes' own
# copies (runtime/core/near_cache, which listens to every tenant's through this pattern). One
# channel per tenant: a tenant's agent may publish on its own only (its Redis ACL user).
INVALIDATIONS_PATTERN = f"{PREFIX}:*:invalidated"
Model = TypeVar("Model", bound=BaseModel)
# The hash field of a collection's generation (not a valid read name: reads are named by us).
GENERATION = "~generation"
# KEYS[1] collection; ARGV: generation read before loading ('' for none), field, value, ttl.
STORE_IF_CURRENT = """
if (redis.call('HGET', KEYS[1], '~generation') or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
return 1"""


class TenantCache:
    def __init__(self, redis: aioredis.Redis, tenant: TenantNames, ttl: int = 300) -> None:
        self.redis = redis
        self.tenant = tenant
        self.ttl = ttl

    def key(self, name: str) -> str:
        # The tenant part is in braces: a Redis Cluster keeps one tenant's keys in one slot.
        return f"{PREFIX}:{{{self.tenant.slug}}}:{name}"

    @property
    def channel(self) -> str:
        return invalidations_channel(self.tenant)

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

    async def read_through(self, collection: str, name: str, model: type[Model],
                           load: Callable[[], Awaitable[Model]]) -> Model:
        """Read `name` of `collection` from the cache, or `load()` it and keep it (unless the
        collection was invalidated meanwhile). A collection lives at most `ttl` seconds."""
        generation, cached = await self.lookup(collection, name)
        if cached is not None:
            return model.model_validate_json(cached)
        value = await load()
        await self.store_if_current(collection, generation, name, value.model_dump_json())
        return value

    async def lookup(self, collection: str, name: str) -> tuple[bytes, bytes | None]:
        """(the collection's generation now, the cached value of `name` or None): pass the
        generation to `store_if_current` once the value is loaded."""
        # Values are bytes: the platform's clients do not decode responses.
        generation, cached = cast(
            "list[bytes | None]",
            await self.redis.hmget(self.key(collection), [GENERATION, name]))
        return generation or b"", cached

    async def store_if_current(self, collection: str, generation: bytes, name: str,
                               value: str | bytes) -> bool:
        """Keep `value` as `name` unless the collection was invalidated since `generation`
        was looked up (the value may then be older than the write that invalidated it)."""
        return bool(await self.redis.eval(STORE_IF_CURRENT, 1, self.key(collection),
                                          generation, name, value, self.ttl))

    async def invalidate_collections(self, *collections: str) -> None:
        """Forget every read of `collections`; reads loaded before this are not stored."""
        async with self.redis.pipeline(transaction=True) as pipe:
            for collection in collections:
                key = self.key(collection)
                pipe.delete(key)
                pipe.hset(key, GENERATION, secrets.token_hex(8))
                pipe.expire(key, self.ttl)
                pipe.publish(self.channel, key)
            await pipe.execute()

    async def invalidate_all(self) -> int:
        """Drop every cached entry of this tenant."""
        removed = await _delete_matching(self.redis, self.key("*"))
        await self.redis.publish(self.channel, self.key("*"))
        return removed


async def purge_tenant_keys(redis: aioredis.Redis, tenant: TenantNames) -> int:
    """Delete every key the platform keeps for a tenant (cache, sessions, rate limits): all
    carry `{<slug>}`. Deleting or shredding a tenant leaves nothing of it in Redis."""
    removed = await _delete_matching(redis, f"simptu:*:{{{tenant.slug}}}:*")
    await redis.publish(invalidations_channel(tenant), f"{PREFIX}:{{{tenant.slug}}}:*")
    return removed


def invalidations_channel(tenant: TenantNames) -> str:
    """`simptu:cache:{<slug>}:invalidated`: where the tenant's invalidated keys are announced."""
    return f"{PREFIX}:{{{tenant.slug}}}:invalidated"


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
