"""Agent benchmark: the agent's own share of a chat message's path with the local model, from
an inbound event taken off Kafka (handed to the worker's processor) to the first `reply.delta`
acknowledged by Kafka, and to the whole turn committed (reply stored, outbox written). Runs the
worker's processor in this process against the local stack (`make up`) with a throwaway
dental clinic (catalogue and FAQ seeded), removed afterwards. Prints a markdown table.

    .venv/bin/python bench/bench_agent.py [--messages 100]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.runtime.agent.intents import IntentClassifier
from simptu.runtime.agent.tenants import ServedTenants
from simptu.runtime.agent.turn import Turns
from simptu.runtime.core.bookings.demo import seed_demo_catalogue
from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.chat import events as chat_events
from simptu.runtime.core.chat import store
from simptu.runtime.core.crypto import KeyRing, OpenBaoTransit, ensure_data_key
from simptu.runtime.core.database import TenantUnitOfWork, act_as_tenant
from simptu.runtime.core.embeddings import Embedder
from simptu.runtime.core.events import CloudEvent, EventProducer, PostgresIdempotency
from simptu.runtime.core.events.topics import (
    TopicSettings,
    ensure_tenant_topics,
    kafka_admin,
    remove_tenant_topics,
)
from simptu.runtime.core.knowledge.demo import seed_demo_faq
from simptu.runtime.core.migrations import migrate_platform, migrate_tenant
from simptu.runtime.core.redis_client import connect_redis
from simptu.runtime.core.registry import TenantRecord, TenantRegistry, delete_tenant, upsert_tenant
from simptu.runtime.core.schemas import drop_tenant_schema, ensure_tenant_schema
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames

SCENARIOS = {
    "greeting (ro)": "Bună ziua!",
    "price question (ro)": "Cât costă o detartrare?",
    "opening hours (en)": "What are your opening hours?",
    "booking request (en)": "I would like a cleaning on Friday",
    "FAQ question (ro)": "Aveți parcare?",
}
TURNS_PER_SESSION = 5
# One model for the intents, the FAQ and the turns (it loads on first use: seconds, 800 MB).
EMBEDDER = Embedder()


class TimedProducer(EventProducer):
    """Notes when Kafka acknowledged the first reply piece since `reset()`."""

    first_delta: float | None = None

    def reset(self) -> None:
        self.first_delta = None

    async def publish(self, topic: str, event: CloudEvent,
                      key: str | bytes | None = None) -> object:
        acknowledged = await super().publish(topic, event, key)
        if event.type == contract.REPLY_DELTA and self.first_delta is None:
            self.first_delta = time.perf_counter()
        return acknowledged


@asynccontextmanager
async def bench_tenant(core: CoreSettings, pool: asyncpg.Pool) -> AsyncIterator[TenantRecord]:
    names = TenantNames(f"bench-agent-{uuid.uuid4().hex[:6]}")
    redis = connect_redis(core.redis_url.get_secret_value())
    transit = OpenBaoTransit.from_settings(core)
    record = TenantRecord(slug=names.slug, status="Ready", business_type="dental-clinic",
                          display_name="Bench Dental", schema_name=names.schema,
                          transit_key=names.transit_key, timezone="Europe/Bucharest")
    async with pool.acquire() as conn:
        await migrate_platform(conn)
        await ensure_tenant_schema(conn, names)
        await migrate_tenant(conn, names)
        await ensure_data_key(conn, transit, names)
        await upsert_tenant(conn, redis, record)
        async with conn.transaction():
            await act_as_tenant(conn, names)
            await seed_demo_catalogue(conn, "dental-clinic")
            await seed_demo_faq(conn, EMBEDDER, "dental-clinic")
    async with kafka_admin(core.kafka) as admin:
        await ensure_tenant_topics(admin, names, TopicSettings(partitions=1))
    try:
        yield record
    finally:
        async with pool.acquire() as conn:
            await delete_tenant(conn, redis, names.slug)
            await drop_tenant_schema(conn, names)
        await transit.destroy_key(names.transit_key)
        async with kafka_admin(core.kafka) as admin:
            await remove_tenant_topics(admin, names)
        await redis.aclose()


async def customer_message(pool: asyncpg.Pool, ring: KeyRing, tenant: TenantRecord,
                           session_id: uuid.UUID, text: str) -> CloudEvent:
    """What the hub does: the message stored, its `message.received` event built."""
    async with TenantUnitOfWork(pool, tenant.names) as conn:
        if await store.get_session(conn, session_id) is None:
            await store.create_session(conn, session_id, channel="web", locale="ro", guest=True)
        session = await store.get_session(conn, session_id)
        message, sealed = await store.add_message(conn, ring.cipher(tenant.names, conn),
                                                  session_id, "customer", None, text)
        # Built as the outbox would carry it, without waiting for the relay.
        await chat_events.message_received(conn, tenant, session, message, sealed)
        row = await conn.fetchrow("SELECT event FROM outbox ORDER BY id DESC LIMIT 1")
    return CloudEvent.from_bytes(row["event"])


async def run(messages: int) -> None:
    env = StackEnv.load(DevstackSettings().env_file)
    core = CoreSettings.model_validate(
        {key.removeprefix("SIMPTU_").lower(): value for key, value in env.values.items()}
        | {"bao_addr": env["BAO_ADDR"], "bao_auth": "token", "bao_token": env["BAO_TOKEN"]})
    pool = await asyncpg.create_pool(env.database_url, min_size=2, max_size=10)
    redis = connect_redis(core.redis_url.get_secret_value())
    classifier = IntentClassifier(EMBEDDER.embed)
    await classifier.warm_up()
    try:
        async with bench_tenant(core, pool) as tenant, \
                KeyRing(pool, OpenBaoTransit.from_settings(core), redis) as ring, \
                TimedProducer(core.kafka, linger_ms=0) as producer:
            served = ServedTenants(env.database_url, ring, classifier, pool_size=4,
                                   credentials=lambda _slug: None)  # the local model
            turns = Turns(TenantRegistry(pool, redis, memory_ttl=5), ring, served, producer,
                          pool, 0.05, EMBEDDER, redis)
            process = PostgresIdempotency(pool, "agent-bench").processor(turns.handle)
            rows = []
            for name, text in SCENARIOS.items():
                first, whole = await measure(process, producer, pool, ring, tenant, text,
                                             messages)
                rows.append((name, first, whole))
            await served.close()
        print_table(rows, messages)
    finally:
        await redis.aclose()
        await pool.close()


async def measure(process: object, producer: TimedProducer, pool: asyncpg.Pool,
                  ring: KeyRing, tenant: TenantRecord, text: str,
                  messages: int) -> tuple[list[float], list[float]]:
    first: list[float] = []
    whole: list[float] = []
    session_id = uuid.uuid4()
    for n in range(messages + 5):  # the first five warm caches and are not counted
        if n % TURNS_PER_SESSION == 0:
            session_id = uuid.uuid4()
        event = await customer_message(pool, ring, tenant, session_id, text)
        producer.reset()
        started = time.perf_counter()
        await process(event)  # type: ignore[operator]
        done = time.perf_counter()
        if n >= 5 and producer.first_delta is not None:
            first.append((producer.first_delta - started) * 1000)
            whole.append((done - started) * 1000)
    return first, whole


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def print_table(rows: list[tuple[str, list[float], list[float]]], messages: int) -> None:
    print(f"\nAgent with the local model, {messages} messages per scenario "
          "(inbound event handed to the processor → ...)\n")
    print("| scenario | first reply.delta p50 | p99 | whole turn p50 | p99 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, first, whole in rows:
        print(f"| {name} | {statistics.median(first):.1f} ms | {percentile(first, 0.99):.1f} ms "
              f"| {statistics.median(whole):.1f} ms | {percentile(whole, 0.99):.1f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args.messages))


if __name__ == "__main__":
    main()
