"""Every replica reads every tenant's `outbound` and `events` topics (no consumer group: each
replica needs every event, not a share of them) and hands each event with its offset to the
hub. Topics present at start are read from their end; topics of tenants that appear later are
read from their beginning, so a new tenant's first events are not missed."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from simptu.runtime.core.events import CloudEvent
from simptu.runtime.core.events.consumer import RejectedRecord, event_of

log = logging.getLogger(__name__)

TOPICS = re.compile(r"^simptu\.[a-z0-9-]+\.(outbound|events)$")
EventHandler = Callable[[str, int, CloudEvent], Awaitable[None]]


class TopicReader:
    """`task = create_task(reader.run())`; `await reader.ready.wait()` until it reads."""

    def __init__(self, bootstrap: str, handle: EventHandler, *, refresh_interval: float,
                 client_id: str = "simptu-ws") -> None:
        self.handle = handle
        self.refresh_interval = refresh_interval
        self.ready = asyncio.Event()
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=None, client_id=client_id,
            enable_auto_commit=False, auto_offset_reset="latest",
            metadata_max_age_ms=max(1000, int(refresh_interval * 1000)))
        self._assigned: set[TopicPartition] = set()

    async def run(self) -> None:
        await self._consumer.start()
        try:
            await self._refresh(first=True)
            self.ready.set()
            refreshed = asyncio.get_running_loop().time()
            while True:
                if asyncio.get_running_loop().time() - refreshed > self.refresh_interval:
                    await self._refresh(first=False)
                    refreshed = asyncio.get_running_loop().time()
                if not self._assigned:
                    await asyncio.sleep(0.2)
                    continue
                batch = await self._consumer.getmany(timeout_ms=200, max_records=500)
                for tp, records in batch.items():
                    for record in records:
                        await self._deliver(tp, record)
        finally:
            await self._consumer.stop()

    async def _deliver(self, tp: TopicPartition, record: object) -> None:
        try:
            event = event_of(record)
        except RejectedRecord as error:
            log.error("rejected %s[%d]: %s", tp.topic, tp.partition, error)
            return
        try:
            await self.handle(tp.topic, record.offset, event)  # type: ignore[attr-defined]
        except Exception:  # a push that failed is not retried: the client resumes from the log
            log.exception("could not deliver event %s of %s", event.id, tp.topic,
                          extra={"tenant": event.tenantid})

    async def _refresh(self, *, first: bool) -> None:
        """Assign every partition of the matching topics, keeping the positions we have."""
        # aiokafka has no public call for the partitions of topics nobody subscribed to.
        cluster = await self._consumer._client.fetch_all_metadata()
        topics = {t for t in cluster.topics() if TOPICS.fullmatch(t)}
        wanted = {TopicPartition(t, p) for t in topics
                  for p in cluster.partitions_for_topic(t) or ()}
        if wanted == self._assigned:
            return
        kept = {tp: await self._consumer.position(tp) for tp in self._assigned & wanted}
        self._consumer.assign(list(wanted))
        for tp, offset in kept.items():
            self._consumer.seek(tp, offset)
        fresh = wanted - self._assigned
        if fresh:
            if first:
                await self._consumer.seek_to_end(*fresh)
            else:
                await self._consumer.seek_to_beginning(*fresh)
        self._assigned = wanted
        log.info("reading %d partitions of %d topics", len(wanted), len(topics))
