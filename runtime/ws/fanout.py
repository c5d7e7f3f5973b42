"""Every replica reads the `outbound` and `events` topics of every Ready tenant of the registry
(no consumer group: each replica needs every event, not a share of them) and hands each event
with its offset to the hub. An `outbound` partition is read on from where the hubs had got to
(read_positions: what was published while no hub ran still reaches the resume log), but from
no further back than `catch_up_window` seconds; other partitions at start are read from their
end, and a tenant that becomes Ready later from just before the hub last looked, so its first
events are not missed. An event read while Redis is away waits for it (the reader stalls:
nothing could be claimed or logged meanwhile) instead of being dropped. Only Ready tenants'
topics: a fetch names every assigned partition, and its cost grows with them."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from simptu.runtime.core.events import CloudEvent
from simptu.runtime.core.events.consumer import RejectedRecord, event_of
from simptu.runtime.core.kafka_access import KafkaAccess, kafka_access
from simptu.runtime.ws.read_positions import ReadPositions

log = logging.getLogger(__name__)

STREAMS = ("outbound", "events")
# How far before its last look the reader starts a tenant it has not read yet (seconds).
CATCH_UP_MARGIN = 5.0
REFRESH_TIMEOUT = 5.0
# Redis down for longer than its client retries a command: the event waits, read again this
# often at most (seconds), rather than being dropped before it reached the log or a socket.
MAX_REDIS_PAUSE = 2.0
REDIS_AWAY = (RedisConnectionError, RedisTimeoutError)
EventHandler = Callable[[str, int, CloudEvent], Awaitable[None]]
ReadyTenants = Callable[[], Awaitable[set[str]]]


class TopicReader:
    """`task = create_task(reader.run())`; `await reader.ready.wait()` until it reads."""

    def __init__(self, kafka: KafkaAccess | str, handle: EventHandler, tenants: ReadyTenants, *,
                 refresh_interval: float, client_id: str = "simptu-ws",
                 positions: ReadPositions | None = None, catch_up_window: float = 0.0) -> None:
        self.handle = handle
        self.tenants = tenants
        self.refresh_interval = refresh_interval
        self.positions = positions
        self.catch_up_window = catch_up_window
        self.ready = asyncio.Event()
        self._consumer = AIOKafkaConsumer(
            **kafka_access(kafka).client_options(), group_id=None, client_id=client_id,
            enable_auto_commit=False, auto_offset_reset="latest",
            fetch_max_wait_ms=100)
        self._assigned: set[TopicPartition] = set()
        self._looked_at = 0.0

    async def run(self) -> None:
        await self._consumer.start()
        try:
            await self._refresh(first=True)
            self.ready.set()
            refreshed = asyncio.get_running_loop().time()
            while True:
                if asyncio.get_running_loop().time() - refreshed > self.refresh_interval:
                    refreshed = asyncio.get_running_loop().time()
                    try:
                        # Bounded: a topic deleted under it can keep aiokafka waiting for a
                        # position, and meanwhile no tenant's replies would be read.
                        async with asyncio.timeout(REFRESH_TIMEOUT):
                            await self._refresh(first=False)
                    except TimeoutError:
                        log.warning("looking for new tenants' topics took over %.0fs; "
                                    "reading what we have", REFRESH_TIMEOUT)
                    except Exception:  # the registry or Kafka is away: read what we have
                        log.exception("could not look for new tenants' topics")
                if not self._assigned:
                    await asyncio.sleep(0.2)
                    continue
                try:
                    batch = await self._consumer.getmany(timeout_ms=200, max_records=500)
                except KafkaError as error:  # the broker went away: aiokafka reconnects
                    log.warning("could not fetch outbound events: %r", error)
                    await asyncio.sleep(1)
                    continue
                for tp, records in batch.items():
                    for record in records:
                        await self._deliver(tp, record)
                await self._record({tp: records[-1].offset + 1 for tp, records in batch.items()
                                    if records})
        finally:
            await self._consumer.stop()

    async def _deliver(self, tp: TopicPartition, record: object) -> None:
        try:
            event = event_of(record)
        except RejectedRecord as error:
            log.error("rejected %s[%d]: %s", tp.topic, tp.partition, error)
            return
        pause = 0.0
        while True:
            try:
                await self.handle(tp.topic, record.offset, event)  # type: ignore[attr-defined]
                return
            except REDIS_AWAY as error:  # nothing can be claimed or logged: wait for Redis
                pause = min(max(pause * 2, 0.2), MAX_REDIS_PAUSE)
                log.warning("Redis is away (%r); event %s of %s waits %.1fs", error, event.id,
                            tp.topic, pause, extra={"tenant": event.tenantid})
                await asyncio.sleep(pause)
            except Exception:  # a push that failed is not retried: the client resumes from the log
                log.exception("could not deliver event %s of %s", event.id, tp.topic,
                              extra={"tenant": event.tenantid})
                return

    async def _refresh(self, *, first: bool) -> None:
        """Assign every partition of the Ready tenants' topics, keeping the positions we have."""
        names = {f"simptu.{slug}.{stream}" for slug in await self.tenants() for stream in STREAMS}
        # aiokafka has no public call for the partitions of topics nobody subscribed to.
        cluster = await self._consumer._client.fetch_all_metadata()
        wanted = {TopicPartition(t, p) for t in names & cluster.topics()
                  for p in cluster.partitions_for_topic(t) or ()}
        looked_at, self._looked_at = self._looked_at, time.time()
        if wanted == self._assigned:
            return
        kept = {tp: await self._consumer.position(tp) for tp in self._assigned & wanted}
        self._consumer.assign(list(wanted))
        for tp, offset in kept.items():
            self._consumer.seek(tp, offset)
        fresh = wanted - self._assigned
        if fresh:
            await self._start(fresh, first=first, since=looked_at - CATCH_UP_MARGIN)
        self._assigned = wanted
        log.info("reading %d partitions of %d tenants' topics", len(wanted), len(names) // 2)

    async def _start(self, fresh: set[TopicPartition], *, first: bool, since: float) -> None:
        """Position newly assigned partitions: an outbound one where the hubs had got to,
        else at the end (at start) or at the first event since `since` (a new tenant)."""
        outbound = {tp for tp in fresh if tp.topic.endswith(".outbound")}
        recorded: dict[TopicPartition, int] = {}
        if self.positions is not None and outbound:
            try:
                recorded = await self.positions.of(outbound)
            except Exception:  # Redis is away: start as a hub that recorded nothing
                log.exception("could not read where the hubs had got to")
        if recorded:
            await self._resume(recorded)
        rest = fresh - recorded.keys()
        if rest and first:
            await self._consumer.seek_to_end(*rest)
        elif rest:
            await self._catch_up(rest, since)
        # A partition met for the first time has a position from now on, so a restart finds it.
        await self._record({tp: await self._consumer.position(tp)
                            for tp in outbound - recorded.keys()})

    async def _resume(self, recorded: dict[TopicPartition, int]) -> None:
        """Start at the recorded positions, but at no event older than the catch-up window
        (a hub down for a week does not replay it), within what the partitions still hold."""
        partitions = list(recorded)
        oldest = await self._consumer.offsets_for_times(
            {tp: int((time.time() - self.catch_up_window) * 1000) for tp in partitions})
        ends = await self._consumer.end_offsets(partitions)
        begins = await self._consumer.beginning_offsets(partitions)
        behind = 0
        for tp, at in recorded.items():
            window = oldest.get(tp)
            start = ends[tp] if window is None else min(max(at, window.offset, begins[tp]),
                                                        ends[tp])
            self._consumer.seek(tp, start)
            behind += ends[tp] - start
        log.info("catching up %d events of %d outbound partitions", behind, len(recorded))

    async def _record(self, positions: dict[TopicPartition, int]) -> None:
        """Raise the hubs' positions of outbound partitions; a Redis error is logged and the
        next batch records again (a restart then reads a little more, claimed once)."""
        outbound = {tp: at for tp, at in positions.items() if tp.topic.endswith(".outbound")}
        if self.positions is None or not outbound:
            return
        try:
            await self.positions.raise_to(outbound)
        except Exception:
            log.warning("could not record where the hub has read to", exc_info=True)

    async def _catch_up(self, partitions: set[TopicPartition], since: float) -> None:
        """Start new partitions at their first event since `since` (or their end)."""
        found = await self._consumer.offsets_for_times({tp: int(since * 1000)
                                                        for tp in partitions})
        for tp in partitions:
            if found.get(tp) is not None:
                self._consumer.seek(tp, found[tp].offset)
            else:
                await self._consumer.seek_to_end(tp)
