"""What the worker keeps per tenant it serves: the model provider of its settings, its graph
compiled with a checkpointer in its schema (sealed with its key), and its catalogue for a few
seconds (every turn reads it; staff change it rarely)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.graph.state import CompiledStateGraph
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

from simptu.runtime.agent.business import BusinessProfile, profile_of
from simptu.runtime.agent.catalogue import Catalogue, load_catalogue
from simptu.runtime.agent.checkpoints import CheckpointSealer, sealed_saver, tenant_pool
from simptu.runtime.agent.graph import build_graph
from simptu.runtime.agent.intents import IntentClassifier
from simptu.runtime.agent.providers import ChatProvider, create_provider
from simptu.runtime.agent.providers.base import ToolCallingProvider
from simptu.runtime.agent.state import ConversationState, TurnContext
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.registry import TenantAgent, TenantRecord

CATALOGUE_SECONDS = 10.0
# Longer than any turn: a replaced tenant's connections are closed only after this.
RETIRE_AFTER_SECONDS = 120.0


@dataclass
class ServedTenant:
    agent: TenantAgent
    business: BusinessProfile
    provider: ChatProvider
    pool: AsyncConnectionPool[Any]
    sealer: CheckpointSealer
    saver: AsyncPostgresSaver
    graph: CompiledStateGraph[ConversationState, TurnContext, Any, Any]
    _catalogue: tuple[float, Catalogue] | None = field(default=None, repr=False)

    async def catalogue(self, conn: asyncpg.Connection, today: dt.date) -> Catalogue:
        now = time.monotonic()
        if self._catalogue is None or now - self._catalogue[0] > CATALOGUE_SECONDS:
            self._catalogue = (now, await load_catalogue(conn, today))
        return self._catalogue[1]


class ServedTenants:
    def __init__(self, dsn: str, ring: KeyRing, classifier: IntentClassifier, *,
                 pool_size: int, credentials: Callable[[str], SecretStr | None]) -> None:
        """`credentials(slug)`: the hosted model's credentials of a tenant, if it has any."""
        self.dsn = dsn
        self.ring = ring
        self.classifier = classifier
        self.pool_size = pool_size
        self.credentials = credentials
        self._served: dict[str, ServedTenant] = {}
        self._retiring: set[asyncio.Task[None]] = set()

    async def get(self, record: TenantRecord) -> ServedTenant:
        served = self._served.get(record.slug)
        if served is not None and served.agent == record.agent:
            return served
        if served is not None:  # its settings changed: a new provider
            self._retire(served)
        served = await self._serve(record)
        self._served[record.slug] = served
        return served

    async def _serve(self, record: TenantRecord) -> ServedTenant:
        provider = create_provider(record.agent, self.credentials(record.slug),
                                   self.classifier)
        pool = tenant_pool(self.dsn, record.names, self.pool_size)
        await pool.open()
        sealer = CheckpointSealer(self.ring, record.names)
        saver = sealed_saver(pool, sealer)
        return ServedTenant(record.agent, profile_of(record.business_type), provider, pool,
                            sealer, saver,
                            build_graph(saver, tools=isinstance(provider, ToolCallingProvider)))

    def _retire(self, served: ServedTenant) -> None:
        """Close a replaced tenant's connections once the turns still using them are done."""
        async def close_later() -> None:
            await asyncio.sleep(RETIRE_AFTER_SECONDS)
            await served.pool.close()

        task = asyncio.create_task(close_later())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def close(self) -> None:
        for task in self._retiring:
            task.cancel()
        for served in self._served.values():
            await served.pool.close()
        self._served.clear()
