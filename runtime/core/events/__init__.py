"""The event bus: CloudEvents on Kafka, an idempotent producer, a consumer that commits after
success and drops duplicates, and a transactional outbox with its relay."""

from simptu.runtime.core.events.cloudevents import CloudEvent, InvalidCloudEvent
from simptu.runtime.core.events.consumer import EventConsumer
from simptu.runtime.core.events.idempotency import (
    EventInProgress,
    PostgresIdempotency,
    RedisIdempotency,
    forget_processed_events,
)
from simptu.runtime.core.events.outbox import OUTBOX_CHANNEL, OutboxError, enqueue
from simptu.runtime.core.events.producer import EventProducer, PublishError, PublishTimeout
from simptu.runtime.core.events.relay import OutboxRelay
from simptu.runtime.core.events.retry import Backoff
from simptu.runtime.core.events.settings import OutboxRelaySettings
from simptu.runtime.core.events.topics import (
    TopicReport,
    TopicSettings,
    check_tenant_topics,
    ensure_tenant_topics,
    kafka_admin,
    remove_tenant_topics,
)

__all__ = [
    "OUTBOX_CHANNEL",
    "Backoff",
    "CloudEvent",
    "EventConsumer",
    "EventInProgress",
    "EventProducer",
    "InvalidCloudEvent",
    "OutboxError",
    "OutboxRelay",
    "OutboxRelaySettings",
    "PostgresIdempotency",
    "PublishError",
    "PublishTimeout",
    "RedisIdempotency",
    "TopicReport",
    "TopicSettings",
    "check_tenant_topics",
    "enqueue",
    "ensure_tenant_topics",
    "forget_processed_events",
    "kafka_admin",
    "remove_tenant_topics",
]
