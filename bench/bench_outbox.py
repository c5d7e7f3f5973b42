"""Outbox relay benchmark: events per second drained from a full outbox, and publish lag
(commit → consumed) under a steady load. Runs against the local stack (`make up`) with a
throwaway tenant and its topics, removed afterwards. Prints a markdown table.

    .venv/bin/python bench/bench_outbox.py [--events 5000] [--rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events.cloudevents import CloudEvent
from simptu.runtime.core.events.outbox import enqueue
from simptu.runtime.core.events.producer import EventProducer
from simptu.runtime.core.events.relay import OutboxRelay
from simptu.runtime.core.events.settings import OutboxRelaySettings
from simptu.runtime.core.events.topics import (
    TopicSettings,
    ensure_tenant_topics,
    kafka_admin,
    remove_tenant_topics,
)
from simptu.runtime.core.migrations import migrate_platform, migrate_tenant
from simptu.runtime.core.registry import TenantRecord, delete_tenant, upsert_tenant
from simptu.runtime.core.schemas import drop_tenant_schema, ensure_tenant_schema
from simptu.runtime.core.tenancy import TenantNames

KEYS = [f"session-{n}" for n in range(16)]


@dataclass
class Arrivals:
    """When each event id was first consumed (time.time())."""

    seen: dict[str, float] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_for(self, ids: set[str] | int) -> None:
        """Until these ids (or this many ids) were consumed; at most a minute."""
        async with asyncio.timeout(60):
            while not self._has(ids):
                self.changed.clear()
                await self.changed.wait()

    def _has(self, ids: set[str] | int) -> bool:
        return len(self.seen) >= ids if isinstance(ids, int) else ids <= self.seen.keys()


@asynccontextmanager
async def throwaway_tenant(stack: StackEnv, pool: asyncpg.Pool) -> AsyncIterator[TenantNames]:
    """Provisioned the way the operator does it (schema, role, migrations, registry, topics)."""
    tenant = TenantNames(f"bench-{int(time.time())}")
    redis = aioredis.Redis.from_url(stack.redis_url)
    try:
        async with pool.acquire() as conn:
            await migrate_platform(conn)
            await ensure_tenant_schema(conn, tenant)
            await migrate_tenant(conn, tenant)
            await upsert_tenant(conn, redis, TenantRecord(
                slug=tenant.slug, status="Ready", business_type="hotel",
                schema_name=tenant.schema, transit_key=tenant.transit_key))
        async with kafka_admin(stack.kafka) as admin:
            await ensure_tenant_topics(admin, tenant, TopicSettings(partitions=6))
        yield tenant
    finally:
        async with kafka_admin(stack.kafka) as admin:
            await remove_tenant_topics(admin, tenant)
        async with pool.acquire() as conn:
            await delete_tenant(conn, redis, tenant.slug)
            await drop_tenant_schema(conn, tenant)
        await redis.aclose()


async def consume(stack: StackEnv, topic: str, arrivals: Arrivals) -> None:
    consumer = AIOKafkaConsumer(topic, **stack.kafka.client_options(),
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=100)
            now = time.time()
            for records in batch.values():
                for record in records:
                    arrivals.seen.setdefault(CloudEvent.from_bytes(record.value).id, now)
            arrivals.changed.set()
    finally:
        await consumer.stop()


def new_event(tenant: TenantNames, seq: int) -> CloudEvent:
    return CloudEvent(source="/bench/outbox", type="io.simptu.bench.outbox.event",
                      tenantid=tenant.slug, subject=KEYS[seq % len(KEYS)], data={"seq": seq})


async def fill(pool: asyncpg.Pool, tenant: TenantNames, count: int) -> None:
    for start in range(0, count, 100):
        async with TenantUnitOfWork(pool, tenant) as conn:
            for seq in range(start, min(count, start + 100)):
                event = new_event(tenant, seq)
                await enqueue(conn, event, tenant.topic("events"), event.subject)


@asynccontextmanager
async def running_relay(stack: StackEnv, pool: asyncpg.Pool) -> AsyncIterator[OutboxRelay]:
    async with EventProducer(stack.kafka, client_id="bench-relay") as producer:
        settings = OutboxRelaySettings.model_validate(
            {"database_url": stack.database_url, "redis_url": stack.redis_url,
             "outbox_batch_size": 500, "outbox_poll_interval": 2.0})
        relay = OutboxRelay(pool, producer, settings, stack.database_url)
        task = asyncio.create_task(relay.run())
        try:
            yield relay
        finally:
            relay.stop()
            await task


async def drain_rate(stack: StackEnv, pool: asyncpg.Pool, tenant: TenantNames,
                     arrivals: Arrivals, count: int) -> float:
    """Events per second from relay start until the last of a full outbox was consumed."""
    await fill(pool, tenant, count)
    print(f"  outbox filled with {count} events; starting the relay", flush=True)
    started = time.time()
    async with running_relay(stack, pool):
        await arrivals.wait_for(count)
    return count / (max(arrivals.seen.values()) - started)


async def steady_lags(stack: StackEnv, pool: asyncpg.Pool, tenant: TenantNames,
                      arrivals: Arrivals, count: int, rate: float) -> list[float]:
    """Commit → consumed, in seconds, for `count` single-event transactions at `rate`/s."""
    committed: dict[str, float] = {}
    async with running_relay(stack, pool):
        began = time.monotonic()
        for seq in range(count):
            await asyncio.sleep(max(0.0, began + seq / rate - time.monotonic()))
            event = new_event(tenant, 1_000_000 + seq)
            async with TenantUnitOfWork(pool, tenant) as conn:
                await enqueue(conn, event, tenant.topic("events"), event.subject)
            committed[event.id] = time.time()
            if seq and seq % 1000 == 0:
                print(f"  {seq}/{count} committed", flush=True)
        await arrivals.wait_for(set(committed))
    return [arrivals.seen[event_id] - at for event_id, at in committed.items()]


async def main(events: int, rate: float) -> None:
    stack = StackEnv.load(DevstackSettings().env_file)
    pool = await asyncpg.create_pool(stack.database_url, min_size=2, max_size=10)
    try:
        async with throwaway_tenant(stack, pool) as tenant:
            arrivals = Arrivals()
            consumer = asyncio.create_task(consume(stack, tenant.topic("events"), arrivals))
            try:
                print(f"tenant {tenant.slug}: draining {events} queued events", flush=True)
                throughput = await drain_rate(stack, pool, tenant, arrivals, events)
                print(f"steady load: {events} transactions at {rate:.0f}/s", flush=True)
                lags = sorted(await steady_lags(stack, pool, tenant, arrivals, events, rate))
            finally:
                consumer.cancel()
                await asyncio.gather(consumer, return_exceptions=True)
    finally:
        await pool.close()
    print_table(events, rate, throughput, lags)


def print_table(events: int, rate: float, throughput: float, lags: list[float]) -> None:
    percentiles = statistics.quantiles(lags, n=100, method="inclusive")
    print()
    print("| outbox relay (local stack, 1 relay, batch 500) | value |")
    print("| --- | ---: |")
    print(f"| drain rate, {events:,} events queued | {throughput:,.0f} events/s |")
    print(f"| publish lag p50, commit → consumed, {rate:,.0f} events/s | "
          f"{percentiles[49] * 1000:.1f} ms |")
    print(f"| publish lag p99, commit → consumed, {rate:,.0f} events/s | "
          f"{percentiles[98] * 1000:.1f} ms |")
    print(f"| publish lag max | {lags[-1] * 1000:.1f} ms |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000, help="events per measurement")
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="transactions per second for the lag measurement")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="  %(levelname)s %(name)s: %(message)s")
    # A fresh topic's first offset lookup may hit a leader not yet serving it; aiokafka logs
    # that at ERROR and retries on its own.
    logging.getLogger("aiokafka.consumer.fetcher").setLevel(logging.CRITICAL)
    asyncio.run(main(args.events, args.rate))
