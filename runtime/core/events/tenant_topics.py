"""Consuming one stream (`inbound`, `outbound`…) of every Ready tenant, or of one: the set
of topics is read from the registry and Kafka, and when it changes the consumer starts over
with the new set (the group rebalances; committed offsets carry over)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import structlog

from simptu.runtime.core.events.consumer import EventConsumer
from simptu.runtime.core.events.idempotency import EventProcessor
from simptu.runtime.core.events.topics import kafka_admin
from simptu.runtime.core.kafka_access import KafkaAccess
from simptu.runtime.core.registry import ready_slugs
from simptu.runtime.core.tenancy import TenantNames

log = structlog.get_logger(__name__)


@dataclass
class TenantTopics:
    """`stream` of the tenants `wanted(slug)` accepts (only `tenant`'s when it is set)."""

    kafka: KafkaAccess | str
    group_id: str
    client_id: str
    stream: str
    refresh_seconds: float
    tenant: str | None = None
    wanted: Callable[[str], bool] = lambda _slug: True

    def __post_init__(self) -> None:
        self.ready = False
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def consume(self, pool: asyncpg.Pool, process: EventProcessor) -> None:
        while not self._stopping.is_set():
            topics = await self._topics(pool)
            if not topics:
                self.ready = True
                await self._wait_for_change(pool, topics)
                continue
            consumer = EventConsumer(self.kafka, self.group_id, topics, process,
                                     client_id=self.client_id)
            task = asyncio.create_task(consumer.run())
            log.info("consuming", topics=len(topics), stream=self.stream)
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
                await asyncio.wait_for(self._stopping.wait(), self.refresh_seconds)
            if consumer is not None and consumer.done():
                consumer.result()  # a consumer that died takes the process with it
            if self.tenant is None and await self._topics(pool) != topics:
                return

    async def _topics(self, pool: asyncpg.Pool) -> list[str]:
        if self.tenant is not None:
            return [TenantNames(self.tenant).topic(self.stream)]
        wanted = [TenantNames(slug).topic(self.stream) for slug in await ready_slugs(pool)
                  if self.wanted(slug)]
        async with kafka_admin(self.kafka) as admin:
            existing = set(await admin.list_topics())
        return [topic for topic in wanted if topic in existing]
