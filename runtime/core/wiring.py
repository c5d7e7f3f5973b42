"""What every process of the platform shares, made once at its start from its settings: the
Postgres pool, Redis, the key ring on OpenBao's transit engine, the tenant registry, the
embedding model and the Kafka producer. The API, the WS hub, the agent worker, the outbox relay
and the operator each open it and add what only they need.

    async with open_core(settings, client_id="simptu-api") as core:
        ...

Everything is closed in reverse order when the block ends, the embedding model's thread too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, fields
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from simptu.runtime.core.crypto import KeyRing, OpenBaoTransit
from simptu.runtime.core.database import create_pool
from simptu.runtime.core.embeddings import Embedder
from simptu.runtime.core.events.producer import EventProducer
from simptu.runtime.core.redis_client import connect_redis
from simptu.runtime.core.registry import TenantRegistry
from simptu.runtime.core.settings import CoreSettings


class NoProducer(RuntimeError):
    """The process opened its core without a Kafka producer (the operator publishes nothing)."""


@dataclass(frozen=True)
class Core:
    settings: CoreSettings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    keystore: OpenBaoTransit
    keyring: KeyRing
    registry: TenantRegistry
    # The sentence-embedding model: loaded at its first use (or `warm_up()`), one per process,
    # dropped after `embedding_idle_unload` seconds unused.
    embedder: Embedder
    kafka: EventProducer | None

    @property
    def producer(self) -> EventProducer:
        if self.kafka is None:
            raise NoProducer("this process opened its core without a Kafka producer")
        return self.kafka

    def parts(self) -> dict[str, Any]:
        """Every field but the settings: what a process's own platform, which extends the
        core, is made with (`ApiPlatform(**core.parts(), settings=..., ...)`)."""
        return {field.name: getattr(self, field.name) for field in fields(self)
                if field.name != "settings"}


@asynccontextmanager
async def open_core(settings: CoreSettings, *, client_id: str, publishes: bool = True,
                    linger_ms: int = 5, publish_timeout: float = 10.0,
                    redis_connections: int | None = None,
                    tenant: str | None = None) -> AsyncIterator[Core]:
    """Open what every process shares; `publishes=False` starts no Kafka producer (a process
    that must start while Kafka is down). `linger_ms`, `publish_timeout` tune the producer,
    `redis_connections` bounds Redis's pool (redis-py's default when None). `tenant`: a
    process serving that tenant only (its agent's pod), whose Redis user reaches its own
    channels only."""
    async with AsyncExitStack() as stack:
        pool = await create_pool(settings)
        stack.push_async_callback(pool.close)
        redis = connect_redis(settings.redis_url.get_secret_value(),
                              max_connections=redis_connections)
        stack.push_async_callback(redis.aclose)
        embedder = Embedder(idle_unload=settings.embedding_idle_unload)
        stack.callback(embedder.close)
        kafka = None
        if publishes:
            kafka = await stack.enter_async_context(EventProducer(
                settings.kafka, client_id=client_id, timeout=publish_timeout,
                linger_ms=linger_ms))
        keystore = OpenBaoTransit.from_settings(settings)
        await stack.enter_async_context(keystore.session.kept_fresh())
        keyring = await stack.enter_async_context(
            KeyRing(pool, keystore, redis, tenant=tenant))
        yield Core(settings=settings, pool=pool, redis=redis, keystore=keystore,
                   keyring=keyring,
                   registry=TenantRegistry(pool, redis, ttl=settings.registry_cache_ttl,
                                           memory_ttl=settings.registry_memory_ttl),
                   embedder=embedder, kafka=kafka)
