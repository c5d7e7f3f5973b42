"""The worker process: consumes the inbound topic of one tenant (`--tenant`, as the tenant's
Deployment runs it) or of every Ready tenant (`--all`, locally; tenants that become Ready later
are picked up), and answers each event once, whatever is redelivered."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
from typing import Any

import asyncpg
import structlog
from pydantic import SecretStr

from simptu.runtime.agent.intents import IntentClassifier
from simptu.runtime.agent.settings import AgentSettings
from simptu.runtime.agent.tenants import ServedTenants
from simptu.runtime.agent.turn import Turns
from simptu.runtime.core.events import (
    EventConsumer,
    PostgresIdempotency,
)
from simptu.runtime.core.events.topics import kafka_admin
from simptu.runtime.core.registry import ready_slugs
from simptu.runtime.core.tenancy import TenantNames
from simptu.runtime.core.wiring import open_core

log = structlog.get_logger(__name__)
# The consumer name of the agent's idempotency records: every replica and worker shares it,
# so an event is answered once however many workers see it.
CONSUMER = "agent"


class AgentWorker:
    def __init__(self, settings: AgentSettings, tenant: str | None) -> None:
        self.settings = settings
        self.tenant = tenant
        self.ready = False
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        # No linger: a reply's deltas should reach the customer as they are made.
        async with open_core(self.settings, client_id="simptu-agent", linger_ms=0) as core:
            classifier = IntentClassifier(core.embedder.embed)
            await classifier.warm_up()  # the model loads now, not on the first customer's message
            tenants = ServedTenants(self.settings.database_url.get_secret_value(), core.keyring,
                                    classifier, pool_size=self.settings.agent_checkpoint_pool_size,
                                    credentials=self._credentials)
            turns = Turns(core.registry, core.keyring, tenants, core.producer, core.pool,
                          self.settings.agent_interrupt_poll_seconds, core.embedder, core.redis)
            once = PostgresIdempotency(core.pool, CONSUMER).processor(turns.handle)
            try:
                await self._consume(core.pool, once)
            finally:
                await tenants.close()

    def _credentials(self, slug: str) -> SecretStr | None:
        if self.tenant is not None:  # a tenant's own Deployment
            return self.settings.model_credentials
        return self.settings.model_credentials_by_tenant.get(slug)

    async def _consume(self, pool: asyncpg.Pool, process: Any) -> None:
        """Consume the current topics; when the set of tenants changes, start over with the
        new set (the group rebalances, committed offsets carry over)."""
        while not self._stopping.is_set():
            topics = await self._topics(pool)
            if not topics:
                self.ready = True
                await self._wait_for_change(pool, topics)
                continue
            consumer = EventConsumer(self.settings.kafka_bootstrap,
                                     self.settings.agent_group_id, topics, process,
                                     client_id="simptu-agent")
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
                                       self.settings.agent_tenant_refresh_seconds)
            if consumer is not None and consumer.done():
                consumer.result()  # a consumer that died takes the worker with it
            if self.tenant is None and await self._topics(pool) != topics:
                return

    async def _topics(self, pool: asyncpg.Pool) -> list[str]:
        if self.tenant is not None:
            return [TenantNames(self.tenant).topic("inbound")]
        wanted = [TenantNames(slug).topic("inbound") for slug in await ready_slugs(pool)
                  if _matches(slug, self.settings.agent_tenants)
                  and not _matches(slug, self.settings.agent_skip_tenants)]
        async with kafka_admin(self.settings.kafka_bootstrap) as admin:
            existing = set(await admin.list_topics())
        return [topic for topic in wanted if topic in existing]


def _matches(slug: str, patterns: str) -> bool:
    return any(fnmatch.fnmatchcase(slug, pattern.strip())
               for pattern in patterns.split(",") if pattern.strip())
