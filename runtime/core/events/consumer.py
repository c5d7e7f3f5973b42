"""Consuming CloudEvents from Kafka: an offset is committed only after its event was handled,
and a failing handler is retried with bounded backoff, never skipped."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from simptu.runtime.core.events.cloudevents import CloudEvent, InvalidCloudEvent
from simptu.runtime.core.events.idempotency import EventProcessor
from simptu.runtime.core.events.metrics import EVENTS_CONSUMED
from simptu.runtime.core.events.retry import Backoff
from simptu.runtime.core.events.topics import tenant_of_topic
from simptu.runtime.core.kafka_access import KafkaAccess, kafka_access

log = logging.getLogger(__name__)

# ConsumerRecord[bytes, bytes]; aiokafka ships no type information.
Record: TypeAlias = ConsumerRecord
HANDLER_BACKOFF = Backoff(first=0.2, longest=30.0)


class RejectedRecord(ValueError):
    """A record that is not a valid event of its topic's tenant."""


def event_of(record: Record) -> CloudEvent:
    """The record's event, checked against the tenant its topic belongs to."""
    if record.value is None:
        raise RejectedRecord("empty record")
    try:
        event = CloudEvent.from_bytes(record.value)
    except InvalidCloudEvent as error:
        raise RejectedRecord(str(error)) from error
    owner = tenant_of_topic(record.topic)
    if owner is not None and owner != event.tenantid:
        raise RejectedRecord(f"event of tenant {event.tenantid!r} on {owner!r}'s topic")
    return event


class EventConsumer:
    """`task = create_task(consumer.run())` … `consumer.stop(); await task`.

    `process` drops duplicates (see `idempotency`). A failed event is fetched again after a
    backoff, its partition paused meanwhile. A record that is not a valid event of its topic's
    tenant can never succeed: it is logged, counted as `rejected` and committed past, so one
    bad record cannot stop a partition forever.
    """

    def __init__(self, kafka: KafkaAccess | str, group_id: str, topics: list[str],
                 process: EventProcessor, *, backoff: Backoff = HANDLER_BACKOFF,
                 max_records: int = 100, client_id: str = "simptu") -> None:
        self.process = process
        self.backoff = backoff
        self.max_records = max_records
        self._consumer = AIOKafkaConsumer(
            *topics, **kafka_access(kafka).client_options(), group_id=group_id, client_id=client_id,
            enable_auto_commit=False, auto_offset_reset="earliest")
        self._attempts: defaultdict[tuple[TopicPartition, int], int] = defaultdict(int)
        self._stopping = asyncio.Event()
        # Each partition with records in hand has a task handling them in order; records
        # fetched meanwhile wait in its queue (the partition paused when that is long).
        self._busy: dict[TopicPartition, asyncio.Task[None]] = {}
        self._queued: defaultdict[TopicPartition, list[Record]] = defaultdict(list)
        self._backing_off: set[TopicPartition] = set()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        if not await self._started():
            return
        try:
            while not self._stopping.is_set():
                batch = await self._consumer.getmany(timeout_ms=200,
                                                     max_records=self.max_records)
                for tp, records in batch.items():
                    self._hand_over(tp, records)
        finally:
            await asyncio.gather(*self._busy.values(), return_exceptions=True)
            await self._consumer.stop()

    async def _started(self) -> bool:
        """Start the Kafka consumer, unless told to stop first: a start waits for the metadata
        of every topic it was given, forever for a topic deleted meanwhile (a tenant removed
        between the listing of topics and this start)."""
        starting = asyncio.create_task(self._consumer.start())
        stopping = asyncio.create_task(self._stopping.wait())
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not starting.done():
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
            await self._consumer.stop()
            return False
        starting.result()  # its error, if it failed
        return True

    def _hand_over(self, tp: TopicPartition, records: list[Record]) -> None:
        """Partitions are independent: each keeps its order in a task of its own and none
        waits for another (a hosted model's seconds-long turn holds up only the conversations
        of its partition). Fetching goes on meanwhile; pausing a partition for every batch
        would cost the next fetch's wait each time."""
        if tp in self._busy:
            self._queued[tp].extend(records)
            if len(self._queued[tp]) >= self.max_records:
                self._consumer.pause(tp)  # enough in hand: resumed when its task is done
            return
        self._busy[tp] = asyncio.create_task(self._consume_partition(tp, records))

    async def _consume_partition(self, tp: TopicPartition, records: list[Record]) -> None:
        """Handle records in order, then those queued meanwhile; commit what succeeded; on
        failure, fetch it again later (what was queued after it is fetched again too)."""
        try:
            while records:
                next_offset = None
                for record in records:
                    if not await self._consume(tp, record):
                        self._retry_later(tp, record.offset)
                        self._queued.pop(tp, None)
                        records = []
                        break
                    next_offset = record.offset + 1
                if next_offset is not None:
                    await self._commit(tp, next_offset)
                if records:
                    records = self._queued.pop(tp, [])
        finally:
            # No await since the queue was found empty: records fetched from now on start a
            # task of their own. (Leaving this to a done callback let records be queued for a
            # task that had already ended, and its partition stalled.)
            del self._busy[tp]
            if tp not in self._backing_off:
                self._resume(tp)

    async def _consume(self, tp: TopicPartition, record: Record) -> bool:
        """True when the record is done with (handled, duplicate or rejected)."""
        try:
            event = event_of(record)
        except RejectedRecord as error:
            EVENTS_CONSUMED.labels("rejected").inc()
            log.error("rejected %s[%d]@%d: %s", tp.topic, tp.partition, record.offset, error)
            return True
        try:
            handled = await self.process(event)
        except Exception:
            self._attempts[tp, record.offset] += 1
            EVENTS_CONSUMED.labels("failed").inc()
            log.exception("handler failed on event %s (%s[%d]@%d, attempt %d)", event.id,
                          tp.topic, tp.partition, record.offset, self._attempts[tp, record.offset],
                          extra={"tenant": event.tenantid})
            return False
        self._attempts.pop((tp, record.offset), None)
        EVENTS_CONSUMED.labels("handled" if handled else "duplicate").inc()
        return True

    def _retry_later(self, tp: TopicPartition, offset: int) -> None:
        # Rewind and pause only this partition; its records are fetched again after the delay.
        self._consumer.seek(tp, offset)
        self._consumer.pause(tp)
        self._backing_off.add(tp)
        delay = self.backoff.delay(self._attempts[tp, offset])
        asyncio.get_running_loop().call_later(delay, self._backoff_over, tp)

    def _backoff_over(self, tp: TopicPartition) -> None:
        self._backing_off.discard(tp)
        if tp not in self._busy:
            self._resume(tp)

    def _resume(self, tp: TopicPartition) -> None:
        if tp in self._consumer.assignment():
            self._consumer.resume(tp)

    async def _commit(self, tp: TopicPartition, offset: int) -> None:
        try:
            await self._consumer.commit({tp: offset})
        except (CommitFailedError, KafkaError) as error:
            # The partition moved to another member: it resumes from the last commit and
            # redelivers what we handled since, which the processor drops as duplicates.
            log.warning("could not commit %s[%d]@%d: %r", tp.topic, tp.partition, offset, error)
