"""A process's own copies of cached values: dropped when any process invalidates their
collection, not kept when an invalidation overtook the read, all dropped while unsubscribed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.near_cache import NearCache
from simptu.runtime.core.tenancy import TenantNames
from simptu.runtime.core.tenant_cache import TenantCache


@pytest.fixture
async def near(stack: StackEnv) -> AsyncIterator[NearCache]:
    cache = NearCache(stack["SIMPTU_REDIS_URL"], max_entries=3, ttl=60)
    await cache.start()
    await asyncio.wait_for(cache.subscribed.wait(), 10)
    yield cache
    await cache.aclose()


async def _until(condition: Callable[[], bool]) -> None:
    """Announcements arrive a moment after they are published."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("not within 5 s")


def _kept(near: NearCache, collection: str, name: str, value: bytes) -> None:
    with near.filling(collection) as fill:
        near.keep(fill, name, value)


async def test_an_invalidation_anywhere_drops_the_collection_s_copies(
        near: NearCache, redis_client: aioredis.Redis, unique: str) -> None:
    cache = TenantCache(redis_client, TenantNames(unique))
    pages, other = cache.key("pages"), cache.key("other")
    _kept(near, pages, "1", b"one")
    _kept(near, other, "1", b"kept")
    assert near.get(pages, "1") == b"one"
    await cache.invalidate_collections("pages")  # as another process would
    await _until(lambda: near.get(pages, "1") is None)
    assert near.get(other, "1") == b"kept"


async def test_a_read_overtaken_by_an_invalidation_is_not_kept(
        near: NearCache, redis_client: aioredis.Redis, unique: str) -> None:
    cache = TenantCache(redis_client, TenantNames(unique))
    with near.filling(cache.key("pages")) as fill:
        # The value was read from Redis here; the write's invalidation comes before it is kept.
        await cache.invalidate_collections("pages")
        await _until(lambda: fill.overtaken)
        near.keep(fill, "1", b"old")
    assert near.get(cache.key("pages"), "1") is None
    _kept(near, cache.key("pages"), "1", b"new")  # a read begun after it is kept
    assert near.get(cache.key("pages"), "1") == b"new"


async def test_dropping_a_tenant_s_cache_drops_all_its_copies_only(
        near: NearCache, redis_client: aioredis.Redis, unique: str) -> None:
    gone = TenantCache(redis_client, TenantNames(f"{unique}-gone"))
    kept = TenantCache(redis_client, TenantNames(f"{unique}-kept"))
    _kept(near, gone.key("a"), "1", b"a")
    _kept(near, kept.key("a"), "1", b"b")
    await gone.invalidate_all()
    await _until(lambda: near.get(gone.key("a"), "1") is None)
    assert near.get(kept.key("a"), "1") == b"b"


async def test_without_a_subscription_nothing_is_kept_until_it_is_back(
        near: NearCache, redis_client: aioredis.Redis, unique: str) -> None:
    key = TenantCache(redis_client, TenantNames(unique)).key("pages")
    _kept(near, key, "1", b"one")
    with near.filling(key) as fill:
        await _disconnect(redis_client, near)  # invalidations may be missed now
        await _until(lambda: not near.subscribed.is_set())
        near.keep(fill, "2", b"two")
    assert near.get(key, "1") is None
    assert near.get(key, "2") is None
    await asyncio.wait_for(near.subscribed.wait(), 10)
    _kept(near, key, "3", b"three")
    assert near.get(key, "3") == b"three"


async def _disconnect(redis_client: aioredis.Redis, near: NearCache) -> None:
    clients = await redis_client.client_list(_type="pubsub")
    [mine] = [client["id"] for client in clients if client["name"] == near.client_name]
    await redis_client.client_kill_filter(_id=mine)


async def test_copies_are_bounded_in_number_and_age(stack: StackEnv, unique: str) -> None:
    near = NearCache(stack["SIMPTU_REDIS_URL"], max_entries=2, ttl=0.2)
    await near.start()
    try:
        await asyncio.wait_for(near.subscribed.wait(), 10)
        for name in ("1", "2", "3"):
            _kept(near, unique, name, name.encode())
        assert [near.get(unique, name) for name in ("1", "2", "3")] == [None, b"2", b"3"]
        await asyncio.sleep(0.3)
        assert near.get(unique, "3") is None
    finally:
        await near.aclose()
