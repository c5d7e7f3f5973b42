"""The transactional outbox: `enqueue` writes an event in the caller's transaction, so it is
published (by `OutboxRelay`) if and only if the data it describes was committed."""

from __future__ import annotations

import asyncpg

from simptu.runtime.core.events.cloudevents import CloudEvent
from simptu.runtime.core.events.producer import encode_key

# NOTIFY channel; the payload is the tenant's slug. Postgres delivers it on commit only.
OUTBOX_CHANNEL = "simptu_outbox"
# Below Kafka's default max.message.bytes (1 MiB) with room for the record's overhead: a row
# Kafka would refuse could never leave the outbox, so it is refused here instead.
MAX_EVENT_BYTES = 1_000_000


class OutboxError(ValueError):
    """An event that cannot go through the outbox; nothing was written."""


async def enqueue(conn: asyncpg.Connection, event: CloudEvent, topic: str,
                  key: str | bytes | None = None) -> int:
    """Write `event` for `topic` in the caller's transaction (a `TenantUnitOfWork`).

    Returns the outbox row id. Events of one key are published in the order they were enqueued.
    """
    if not conn.is_in_transaction():
        raise OutboxError("enqueue needs the caller's transaction (use a TenantUnitOfWork)")
    if not topic.startswith(f"simptu.{event.tenantid}."):
        raise OutboxError(f"topic {topic!r} is not one of tenant {event.tenantid!r}'s topics")
    payload = event.to_bytes()
    if len(payload) > MAX_EVENT_BYTES:
        raise OutboxError(f"event {event.id} is {len(payload)} bytes; at most {MAX_EVENT_BYTES}")
    # The row and its notification in one round trip. Several notifications of one
    # transaction with the same payload are delivered once.
    row_id: int = await conn.fetchval(
        "WITH written AS (INSERT INTO outbox (event_id, topic, key, event) "
        "VALUES ($1, $2, $3, $4) RETURNING id) "
        "SELECT id FROM written, LATERAL pg_notify($5, $6)",
        event.id, topic, encode_key(key), payload, OUTBOX_CHANNEL, event.tenantid)
    return row_id
