"""Hot reads served from Redis: the catalogue and the knowledge base are read on every chat
turn and written rarely, so their reads are cached per tenant (runtime/core/tenant_cache) and
every write through the API drops them once its transaction has committed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

import asyncpg
import structlog
from fastapi import Depends, Request
from pydantic import BaseModel
from redis.exceptions import RedisError

from simptu.runtime.api.dependencies import TenantDep, platform_of
from simptu.runtime.core.bookings.catalogue import CACHE_COLLECTION as CATALOGUE
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.knowledge.store import CACHE_COLLECTION as KNOWLEDGE
from simptu.runtime.core.registry import TenantRecord
from simptu.runtime.core.tenant_cache import TenantCache

Model = TypeVar("Model", bound=BaseModel)
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class HotReads:
    """`await reads.get(KNOWLEDGE, "page", Page, query)`: from the cache, or `query` run in a
    unit of work of the tenant and cached."""

    cache: TenantCache
    pool: asyncpg.Pool
    tenant: TenantRecord

    async def get(self, collection: str, name: str, model: type[Model],
                  query: Callable[[asyncpg.Connection], Awaitable[Model]]) -> Model:
        return await self.cache.read_through(collection, name, model,
                                             lambda: self.uncached(query))

    async def uncached(self, query: Callable[[asyncpg.Connection], Awaitable[Model]]) -> Model:
        """`query` run in a unit of work of the tenant (a read not worth caching)."""
        async with TenantUnitOfWork(self.pool, self.tenant.names) as conn:
            return await query(conn)


def tenant_cache(request: Request, tenant: TenantRecord) -> TenantCache:
    platform = platform_of(request)
    return TenantCache(platform.redis, tenant.names, ttl=platform.settings.api_hot_read_ttl)


async def get_hot_reads(request: Request, tenant: TenantDep) -> HotReads:
    return HotReads(tenant_cache(request, tenant), platform_of(request).pool, tenant)


HotReadsDep = Annotated[HotReads, Depends(get_hot_reads)]


def writes_to(collection: str) -> Callable[..., AsyncIterator[asyncpg.Connection]]:
    """A unit of work whose commit drops the tenant's cached reads of `collection`."""
    async def unit_of_work(request: Request,
                           tenant: TenantDep) -> AsyncIterator[asyncpg.Connection]:
        async with TenantUnitOfWork(platform_of(request).pool, tenant.names) as conn:
            yield conn
        # After the commit: a read between the two would cache the old rows again.
        try:
            await tenant_cache(request, tenant).invalidate_collections(collection)
        except RedisError:
            # Committed all the same; the cached reads expire within the TTL.
            log.exception("cached reads not invalidated", collection=collection)
    return unit_of_work


# scope="function", as UnitOfWork: committed (and the cache dropped) before the response.
CatalogueWrite = Annotated[asyncpg.Connection, Depends(writes_to(CATALOGUE), scope="function")]
KnowledgeWrite = Annotated[asyncpg.Connection, Depends(writes_to(KNOWLEDGE), scope="function")]
