"""Cached collections of a tenant's reads: loaded once, invalidated whole by a write, never put
back stale by a read that raced the write, and never shared between tenants."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from pydantic import BaseModel

from simptu.runtime.core.tenancy import TenantNames
from simptu.runtime.core.tenant_cache import TenantCache


class Page(BaseModel):
    items: list[str]


class Rows:
    """Stands for a tenant's table: what a read loads, and how many loads there were."""

    def __init__(self, *items: str) -> None:
        self.items = list(items)
        self.loads = 0

    async def load(self) -> Page:
        self.loads += 1
        return Page(items=list(self.items))


@pytest.fixture
async def cache(redis_client: aioredis.Redis, unique: str) -> AsyncIterator[TenantCache]:
    made = TenantCache(redis_client, TenantNames(f"{unique}-a"), ttl=60)
    yield made
    await made.invalidate_all()


async def test_a_read_is_loaded_once_then_served_from_the_cache(cache: TenantCache) -> None:
    rows = Rows("Cleaning")
    first = await cache.read_through("catalogue", "services", Page, rows.load)
    rows.items.append("not yet seen")
    again = await cache.read_through("catalogue", "services", Page, rows.load)
    assert first == again == Page(items=["Cleaning"])
    assert rows.loads == 1


async def test_invalidating_a_collection_makes_every_read_of_it_load_again(
    cache: TenantCache,
) -> None:
    services, resources, faq = Rows("Cleaning"), Rows("Dr Ana"), Rows("Parking?")
    await cache.read_through("catalogue", "services", Page, services.load)
    await cache.read_through("catalogue", "resources", Page, resources.load)
    await cache.read_through("knowledge", "page-1", Page, faq.load)
    services.items.append("Filling")
    await cache.invalidate_collections("catalogue")
    assert (await cache.read_through("catalogue", "services", Page, services.load)).items == [
        "Cleaning", "Filling"]
    await cache.read_through("catalogue", "resources", Page, resources.load)
    await cache.read_through("knowledge", "page-1", Page, faq.load)
    assert (services.loads, resources.loads, faq.loads) == (2, 2, 1)


async def test_a_read_that_raced_a_write_is_not_kept(cache: TenantCache) -> None:
    rows = Rows("old")

    async def load_while_a_write_commits() -> Page:
        read = await rows.load()  # the read's snapshot: before the write
        rows.items = ["new"]
        await cache.invalidate_collections("knowledge")  # the write, after its commit
        return read

    assert (await cache.read_through("knowledge", "page-1", Page,
                                     load_while_a_write_commits)).items == ["old"]
    assert (await cache.read_through("knowledge", "page-1", Page, rows.load)).items == ["new"]


async def test_one_tenant_s_cached_reads_never_answer_another(
    redis_client: aioredis.Redis, cache: TenantCache, unique: str,
) -> None:
    other = TenantCache(redis_client, TenantNames(f"{unique}-b"), ttl=60)
    try:
        await cache.read_through("catalogue", "services", Page, Rows("A's service").load)
        theirs = await other.read_through("catalogue", "services", Page,
                                          Rows("B's service").load)
        assert theirs.items == ["B's service"]
        await other.invalidate_collections("catalogue")
        assert (await cache.read_through("catalogue", "services", Page, Rows().load)).items == [
            "A's service"]
    finally:
        await other.invalidate_all()


async def test_a_collection_expires_within_the_ttl(
    redis_client: aioredis.Redis, cache: TenantCache,
) -> None:
    await cache.read_through("catalogue", "services", Page, Rows().load)
    assert 0 < await redis_client.ttl(cache.key("catalogue")) <= 60
    await cache.invalidate_collections("catalogue")
    assert 0 < await redis_client.ttl(cache.key("catalogue")) <= 60
