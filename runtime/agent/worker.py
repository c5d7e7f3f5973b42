"""The worker process: consumes the inbound topic of one tenant (`--tenant`, as the tenant's
Deployment runs it) or of every Ready tenant (`--all`, locally; tenants that become Ready later
are picked up), and answers each event once, whatever is redelivered."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import uuid
from typing import Any

import asyncpg
import redis.asyncio as aioredis
import structlog

from simptu.runtime.agent.intents import IntentClassifier
from simptu.runtime.agent.settings import AgentSettings
from simptu.runtime.agent.tenants import ServedTenants
from simptu.runtime.agent.turn import Turns
from simptu.runtime.core.chat.history_cache import forget_history
from simptu.runtime.core.crypto import KeyRing, OpenBaoTransit
from simptu.runtime.core.database import create_pool
from simptu.runtime.core.embeddings import shared_embedder
from simptu.runtime.core.events import (
    CloudEvent,
    EventConsumer,
    EventProducer,
    PostgresIdempotency,
)
from simptu.runtime.core.events.idempotency import EventProcessor
from simptu.runtime.core.events.topics import kafka_admin
from simptu.runtime.core.redis_client import connect_redis
from simptu.runtime.core.registry import TenantRegistry, ready_slugs
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames

log = structlog.get_logger(__name__)
# The consumer name of the agent's idempotency records: every replica and worker shares it,
# so an event is answered once however many workers see it.
CONSUMER = "agent"


class AgentWorker:
    def __init__(self, core: CoreSettings, settings: AgentSettings, tenant: str | None) -> None:
        self.core = core
        self.settings = settings
        self.tenant = tenant
        self.ready = False
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        pool = await create_pool(self.core)
        redis = connect_redis(self.core.redis_url.get_secret_value())
        registry = TenantRegistry(pool, redis, ttl=self.core.registry_cache_ttl,
                                  memory_ttl=self.core.registry_memory_ttl)
        classifier = IntentClassifier(shared_embedder().embed)
        await classifier.warm_up()  # the model loads now, not on the first customer's message
        try:
            async with KeyRing(pool, OpenBaoTransit.from_settings(self.core), redis) as ring, \
                    EventProducer(self.core.kafka_bootstrap, client_id="simptu-agent",
                                  linger_ms=0) as producer:
                tenants = ServedTenants(self.core.database_url.get_secret_value(), ring,
                                        classifier, pool_size=self.settings.checkpoint_pool_size,
                                        dedicated=self.tenant is not None)
                turns = Turns(registry, ring, tenants, producer, pool,
                              self.settings.interrupt_poll_seconds, shared_embedder())
                once = PostgresIdempotency(pool, CONSUMER).processor(turns.handle)
                try:
                    await self._consume(pool, forgetting_history(once, redis))
                finally:
                    await tenants.close()
        finally:
            await redis.aclose()
            await pool.close()

    async def _consume(self, pool: asyncpg.Pool, process: Any) -> None:
        """Consume the current topics; when the set of tenants changes, start over with the
        new set (the group rebalances, committed offsets carry over)."""
        while not self._stopping.is_set():
            topics = await self._topics(pool)
            if not topics:
                self.ready = True
                await self._wait_for_change(pool, topics)
                continue
            consumer = EventConsumer(self.core.kafka_bootstrap, self.settings.group_id, topics,
                                     process, client_id="simptu-agent")
            task = asyncio.create_task(consumer.run())
            log.info("consuming", topics=len(topics))
            self.ready = True
            try:
                await self._wait_for_change(pool, topics, task)
            finally:
                consumer.stop()
                await task

    async def _wait_for_change(self, pool: asyncpg.Pool, topics: list[str],
                               consumer: asyncio.Task[None] | None = None) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(),
                                       self.settings.tenant_refresh_seconds)
            if consumer is not None and consumer.done():
                consumer.result()  # a consumer that died takes the worker with it
            if self.tenant is None and await self._topics(pool) != topics:
                return

    async def _topics(self, pool: asyncpg.Pool) -> list[str]:
        if self.tenant is not None:
            return [TenantNames(self.tenant).topic("inbound")]
        wanted = [TenantNames(slug).topic("inbound") for slug in await ready_slugs(pool)
                  if _matches(slug, self.settings.tenants)
                  and not _matches(slug, self.settings.skip_tenants)]
        async with kafka_admin(self.core.kafka_bootstrap) as admin:
            existing = set(await admin.list_topics())
        return [topic for topic in wanted if topic in existing]


def forgetting_history(process: EventProcessor, redis: aioredis.Redis) -> EventProcessor:
    """`process`, then (its unit of work committed) the cached history pages of the event's
    session are forgotten: a turn adds the agent's reply, and may make a guest a customer."""
    async def process_then_forget(event: CloudEvent) -> bool:
        handled = await process(event)
        session_id = event.data.get("session_id") if isinstance(event.data, dict) else None
        if handled and session_id:
            await forget_history(redis, TenantNames(event.tenantid), uuid.UUID(str(session_id)))
        return handled
    return process_then_forget


def _matches(slug: str, patterns: str) -> bool:
    return any(fnmatch.fnmatchcase(slug, pattern.strip())
               for pattern in patterns.split(",") if pattern.strip())
