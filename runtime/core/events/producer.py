"""Publishing CloudEvents to Kafka: an idempotent producer (`acks=all`) whose every publish is
bounded by a timeout and counted in `simptu_events_published_total`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata

from simptu.runtime.core.events.cloudevents import STRUCTURED_CONTENT_TYPE, CloudEvent
from simptu.runtime.core.events.metrics import EVENTS_PUBLISHED
from simptu.runtime.core.kafka_access import KafkaAccess, kafka_access

HEADERS = [("content-type", STRUCTURED_CONTENT_TYPE.encode())]


class PublishError(RuntimeError):
    """Kafka did not acknowledge an event; it may or may not have been written (retry it)."""


class PublishTimeout(PublishError):
    """No acknowledgement within the timeout; the event may still be written later."""


@dataclass(frozen=True)
class OutgoingRecord:
    """An event already serialised (the outbox stores the exact bytes it will send)."""

    topic: str
    value: bytes
    key: bytes | None = None


def encode_key(key: str | bytes | None) -> bytes | None:
    return key.encode() if isinstance(key, str) else key


class EventProducer:
    """`async with EventProducer(bootstrap) as producer: await producer.publish(...)`."""

    def __init__(self, kafka: KafkaAccess | str, *, client_id: str = "simptu",
                 timeout: float = 10.0, linger_ms: int = 5) -> None:
        self.timeout = timeout
        # Idempotence implies acks=all, retries without duplicates and one in-flight batch per
        # partition, which is what keeps the records of one key in order.
        self._producer = AIOKafkaProducer(
            **kafka_access(kafka).client_options(), client_id=client_id, enable_idempotence=True,
            acks="all", linger_ms=linger_ms, request_timeout_ms=int(timeout * 1000))

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def __aenter__(self) -> EventProducer:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    async def check_connection(self) -> None:
        """Raise unless a broker answers a metadata request within the timeout (readiness)."""
        async with asyncio.timeout(self.timeout):
            metadata = await self._producer.client.fetch_all_metadata()
        if not metadata.brokers():
            raise PublishError("Kafka answered with no brokers")

    async def missing_topics(self, topics: Iterable[str]) -> set[str]:
        """Those of `topics` the cluster does not have. A record for a missing topic would wait
        the whole timeout for its metadata; asking first lets a caller fail fast instead. Free
        when every topic is known already (the common case); else one metadata request."""
        wanted = set(topics)
        if wanted <= self._producer.client.cluster.topics():
            return set()
        async with asyncio.timeout(self.timeout):
            metadata = await self._producer.client.fetch_all_metadata()
        known: set[str] = metadata.topics()
        return wanted - known

    async def publish(self, topic: str, event: CloudEvent,
                      key: str | bytes | None = None) -> RecordMetadata:
        """Send one event, keyed (e.g. by session id) so a key's events stay in order."""
        [metadata] = await self.publish_many(
            [OutgoingRecord(topic, event.to_bytes(), encode_key(key))])
        return metadata

    async def publish_many(self, records: Sequence[OutgoingRecord]) -> list[RecordMetadata]:
        """Send records in order and wait until Kafka acknowledged every one of them."""
        try:
            async with asyncio.timeout(self.timeout):
                deliveries = [await self._producer.send(
                    r.topic, r.value, key=r.key, headers=HEADERS) for r in records]
                results = await asyncio.gather(*deliveries, return_exceptions=True)
        except TimeoutError as error:
            EVENTS_PUBLISHED.labels("timeout").inc(len(records))
            raise PublishTimeout(
                f"Kafka did not acknowledge {len(records)} event(s) within {self.timeout}s"
            ) from error
        except KafkaError as error:
            EVENTS_PUBLISHED.labels("failed").inc(len(records))
            raise PublishError(f"could not send events: {error!r}") from error
        return _acknowledged(results)


def _acknowledged(results: list[RecordMetadata | BaseException]) -> list[RecordMetadata]:
    failures = [r for r in results if isinstance(r, BaseException)]
    EVENTS_PUBLISHED.labels("acked").inc(len(results) - len(failures))
    if failures:
        EVENTS_PUBLISHED.labels("failed").inc(len(failures))
        raise PublishError(f"{len(failures)} of {len(results)} event(s) were not acknowledged: "
                           f"{failures[0]!r}") from failures[0]
    return [r for r in results if not isinstance(r, BaseException)]
