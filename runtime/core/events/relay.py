"""The outbox relay: publishes each tenant's outbox rows to Kafka in id order and deletes them
once Kafka acknowledged them; woken by NOTIFY, with polling as a fallback."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import time
from collections import defaultdict

import asyncpg

from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events.listener import OutboxListener
from simptu.runtime.core.events.metrics import OUTBOX_LAG, OUTBOX_RELAY_ERRORS, OUTBOX_RELAYED
from simptu.runtime.core.events.producer import EventProducer, OutgoingRecord
from simptu.runtime.core.events.retry import Backoff
from simptu.runtime.core.events.settings import OutboxRelaySettings
from simptu.runtime.core.tenancy import TenantNames, slug_matches

log = logging.getLogger(__name__)

# First key of the per-tenant advisory lock (the second is hashtext(slug)): "simptu outbox".
OUTBOX_LOCK = 0x5170B0C5
READY_TENANTS = ("SELECT slug FROM platform.tenants WHERE status IN ('Ready', 'Suspended') "
                 "ORDER BY slug")
# The topic filter keeps a row from ever reaching another tenant's topics (enqueue refuses it).
NEXT_BATCH = ("SELECT id, topic, key, event, created_at FROM outbox "
              "WHERE starts_with(topic, $1) ORDER BY id LIMIT $2")
# When another replica holds a tenant, look again soon: it may have missed our notification.
BUSY_RETRY = 0.2
FAILURE_BACKOFF = Backoff(first=0.5, longest=30.0)


class MissingTopics(RuntimeError):
    """A tenant's outbox holds events for topics Kafka does not have (yet, or any more: the
    operator repairs them). Its rows wait; other tenants are not held up meanwhile."""

    def __init__(self, slug: str, topics: set[str]) -> None:
        super().__init__(f"tenant {slug}'s topics {', '.join(sorted(topics))} do not exist")


class OutboxRelay:
    """`await relay.run()` until `relay.stop()`; `listen_dsn=None` polls only.

    Safe with several replicas: a tenant is drained under a transaction-level advisory lock, so
    one relay at a time publishes its rows, and a batch is acknowledged before the next is read.
    Safe to kill at any moment: rows are deleted in the transaction that read them, after the
    acknowledgement, so a batch is either gone or published again whole (at-least-once; a
    re-sent event keeps its id and consumers drop it).
    """

    def __init__(self, pool: asyncpg.Pool, producer: EventProducer,
                 settings: OutboxRelaySettings, listen_dsn: str | None) -> None:
        self.pool = pool
        self.producer = producer
        self.settings = settings
        self.listen_dsn = listen_dsn
        self._ready: set[str] = set()
        self._pending: set[str] = set()
        self._again: set[str] = set()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._failures: defaultdict[str, int] = defaultdict(int)
        self._slots = asyncio.Semaphore(settings.outbox_max_concurrent_tenants)
        self._woken = asyncio.Event()
        self._sweep_requested = True
        self._stopping = False
        self._listener: OutboxListener | None = None
        self.sweeps = 0  # every Ready tenant looked at this many times

    def wake(self, slug: str) -> None:
        """Drain this tenant soon (the listener calls it for every NOTIFY)."""
        self._pending.add(slug)
        self._woken.set()

    def sweep(self) -> None:
        """Look at every tenant soon (after a reconnect, notifications may have been missed)."""
        self._sweep_requested = True
        self._woken.set()

    def stop(self) -> None:
        self._stopping = True
        self._woken.set()

    @property
    def listening(self) -> bool:
        return self._listener is not None and self._listener.connected

    async def run(self) -> None:
        listener = None
        if self.listen_dsn:
            self._listener = OutboxListener(self.listen_dsn, self.wake, self.sweep)
            listener = asyncio.create_task(self._listener.run())
        try:
            await self._dispatch_until_stopped()
        finally:
            if listener:
                listener.cancel()
            await asyncio.gather(*self._running.values(), *([listener] if listener else []),
                                 return_exceptions=True)

    async def _dispatch_until_stopped(self) -> None:
        loop = asyncio.get_running_loop()
        last_sweep = -math.inf
        while not self._stopping:
            # Rechecked at least every poll interval: a lost LISTEN connection means polling
            # at once, not after the long interval it was listening with.
            interval = (self.settings.outbox_listening_sweep_interval if self.listening
                        else self.settings.outbox_poll_interval)
            if self._sweep_requested or loop.time() >= last_sweep + interval:
                self._sweep_requested = False
                self.sweeps += 1
                await self._wake_ready_tenants()
                last_sweep = loop.time()
            await self._start_drains()
            wait = min(self.settings.outbox_poll_interval, last_sweep + interval - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), max(0.0, wait))
            self._woken.clear()

    async def _wake_ready_tenants(self) -> None:
        if await self._refresh_ready():
            self._pending |= self._ready

    async def _refresh_ready(self) -> bool:
        try:
            rows = await self.pool.fetch(READY_TENANTS)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("outbox relay: cannot read the tenant registry (%r); retrying", error)
            return False
        self._ready = {row["slug"] for row in rows if self._serves(row["slug"])}
        return True

    def _serves(self, slug: str) -> bool:
        return (slug_matches(slug, self.settings.outbox_tenants)
                and not slug_matches(slug, self.settings.outbox_skip_tenants))

    async def _start_drains(self) -> None:
        if self._pending - self._ready:
            await self._refresh_ready()  # a tenant may have become ready since the last sweep
        slugs, self._pending = self._pending & self._ready, set()
        for slug in slugs:
            if slug in self._running:
                self._again.add(slug)  # it may have read its last batch before this NOTIFY
            else:
                self._running[slug] = asyncio.create_task(self._drain_guarded(slug))
                self._running[slug].add_done_callback(functools.partial(self._drained, slug))

    def _drained(self, slug: str, _task: asyncio.Task[None]) -> None:
        del self._running[slug]
        if slug in self._again:
            self._again.discard(slug)
            self.wake(slug)

    def _wake_later(self, slug: str, delay: float) -> None:
        asyncio.get_running_loop().call_later(delay, self.wake, slug)

    async def _drain_guarded(self, slug: str) -> None:
        """Drain one tenant; a failure is logged and retried with backoff, never dropped."""
        async with self._slots:
            try:
                finished = await self.drain(TenantNames(slug))
            except MissingTopics as error:
                log.warning("outbox relay: %s; retrying later", error, extra={"tenant": slug})
                self._retry_later(slug)
                return
            except asyncpg.UndefinedTableError:
                log.warning("outbox relay: tenant %s has no outbox table (tenant migrations "
                            "not applied?)", slug, extra={"tenant": slug})
                self._retry_later(slug)
                return
            except Exception:
                log.exception("outbox relay: tenant %s failed", slug, extra={"tenant": slug})
                self._retry_later(slug)
                return
        self._failures.pop(slug, None)
        if not finished:
            self._wake_later(slug, BUSY_RETRY)

    def _retry_later(self, slug: str) -> None:
        self._failures[slug] += 1
        OUTBOX_RELAY_ERRORS.inc()
        self._wake_later(slug, FAILURE_BACKOFF.delay(self._failures[slug]))

    async def drain(self, tenant: TenantNames) -> bool:
        """Publish the tenant's outbox until it is empty; False if another relay holds it."""
        while True:
            sent = await self._relay_batch(tenant)
            if sent is None:
                return False
            if sent < self.settings.outbox_batch_size:
                return True

    async def _relay_batch(self, tenant: TenantNames) -> int | None:
        """Publish and delete the oldest rows; None when another relay holds the tenant."""
        async with TenantUnitOfWork(self.pool, tenant) as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1, hashtext($2))",
                                       OUTBOX_LOCK, tenant.slug):
                return None
            rows = await conn.fetch(NEXT_BATCH, f"simptu.{tenant.slug}.",
                                    self.settings.outbox_batch_size)
            if not rows:
                return 0
            missing = await self.producer.missing_topics({row["topic"] for row in rows})
            if missing:
                raise MissingTopics(tenant.slug, missing)
            await self.producer.publish_many(
                [OutgoingRecord(row["topic"], row["event"], row["key"]) for row in rows])
            await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])",
                               [row["id"] for row in rows])
        _record_published(rows)
        return len(rows)


def _record_published(rows: list[asyncpg.Record]) -> None:
    now = time.time()
    OUTBOX_RELAYED.inc(len(rows))
    for row in rows:
        OUTBOX_LAG.observe(max(0.0, now - row["created_at"].timestamp()))
