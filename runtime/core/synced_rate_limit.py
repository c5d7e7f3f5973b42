"""A rate limiter that decides in memory and shares its counts through Redis every
`sync_interval` seconds: for limits checked on every request, where one Redis call per request
would cost more than the request itself.

Each (tenant, client) is counted in fixed windows of `window` seconds, and the sliding count is
estimated as Cloudflare's and Kong's limiters do: the previous window's count, weighted by how
much of it still overlaps the sliding window, plus the current one's. Between two syncs a
replica does not see the others' newest hits, so several replicas together may allow up to
about (replicas - 1) x rate x `sync_interval` more than `limit`; one replica alone never allows
more. When Redis cannot be reached each replica goes on limiting with its own counts.

Use the exact limiter (runtime/core/rate_limit) where every attempt must count at once, as for
access codes.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from simptu.runtime.core import background
from simptu.runtime.core.rate_limit import RateDecision
from simptu.runtime.core.tenancy import TenantNames

log = structlog.get_logger(__name__)


@dataclass
class _Counts:
    """What one replica knows of one (tenant, client): the window it counts in, every
    replica's hits in it and in the one before (as of the last sync), and its own since."""

    window: int
    shared: int = 0
    shared_before: int = 0
    unsent: int = 0
    last_hit: float = 0.0

    def move_to(self, window: int) -> None:
        """Start counting in `window`: the current counts become the previous window's."""
        if window == self.window:
            return
        self.shared_before = self.shared + self.unsent if window == self.window + 1 else 0
        self.shared, self.unsent, self.window = 0, 0, window

    def estimate(self, overlap: float) -> float:
        return self.shared_before * overlap + self.shared + self.unsent


class SyncedRateLimiter:
    """About `limit` requests per `window` seconds for each (tenant, client) pair, decided in
    memory; the counts of every replica meet in Redis every `sync_interval` seconds."""

    def __init__(self, redis: aioredis.Redis, name: str, limit: int, window: float,
                 sync_interval: float) -> None:
        if limit < 1 or window <= 0 or sync_interval <= 0:
            raise ValueError("a rate limit needs limit >= 1, a positive window and interval")
        self.redis = redis
        self.name = name
        self.limit = limit
        self.window = window
        self.sync_interval = sync_interval
        self._counts: dict[str, _Counts] = {}
        self._syncer: asyncio.Task[None] | None = None

    async def hit(self, tenant: TenantNames, client: str) -> RateDecision:
        key = f"simptu:ratelimit:{{{tenant.slug}}}:{self.name}:{client}"
        now = time.time()
        window, into = divmod(now, self.window)
        counts = self._counts.setdefault(key, _Counts(int(window)))
        counts.move_to(int(window))
        counts.last_hit = now
        used = counts.estimate(1 - into / self.window)
        if self._syncer is None:
            self._syncer = asyncio.create_task(self._sync_while_counting())
        if used >= self.limit:
            return RateDecision(False, 0, self._wait(counts, into))
        counts.unsent += 1
        return RateDecision(True, max(0, math.floor(self.limit - used - 1)), 0.0)

    def _wait(self, counts: _Counts, into: float) -> float:
        """Seconds until the estimate falls below the limit again."""
        current = counts.shared + counts.unsent
        if current >= self.limit:  # this window alone is full: its share fades in the next
            return self.window - into + self.window * (1 - self.limit / current)
        # The previous window's share fades until the sum is below the limit.
        fade_to = (self.limit - current) / counts.shared_before
        return max(0.001, self.window * (1 - fade_to) - into)

    async def _sync_while_counting(self) -> None:
        try:
            while self._counts:
                await asyncio.sleep(self.sync_interval)
                await self.sync()
        finally:
            self._syncer = None

    async def aclose(self) -> None:
        """Stop syncing, sending what this replica counted since the last sync."""
        await background.stop(self._syncer)
        await self.sync()

    async def sync(self) -> None:
        """Send this replica's unsent hits and learn everyone's; forget pairs idle for two
        windows. Runs every `sync_interval` while anything is counted."""
        now = time.time()
        for key in [k for k, c in self._counts.items() if now - c.last_hit > 2 * self.window]:
            del self._counts[key]
        if not self._counts:
            return
        sent = {key: (counts.window, counts.unsent) for key, counts in self._counts.items()}
        try:
            totals = await self._exchange(sent)
        except RedisError:
            log.warning("rate limit counts not shared; limiting with this replica's own",
                        limiter=self.name, exc_info=True)
            return
        for (key, (window, unsent)), (shared, before) in zip(sent.items(), totals, strict=True):
            counts = self._counts.get(key)
            if counts is None or counts.window != window:
                continue  # moved on meanwhile: the next sync brings it up to date
            counts.unsent -= unsent
            counts.shared, counts.shared_before = shared, before

    async def _exchange(self, sent: dict[str, tuple[int, int]]) -> list[tuple[int, int]]:
        """(everyone's count in the window, in the window before) for each key, after adding
        the unsent hits."""
        ttl = math.ceil(2 * self.window) + 1
        async with self.redis.pipeline(transaction=False) as pipe:
            for key, (window, unsent) in sent.items():
                pipe.incrby(f"{key}:{window}", unsent)
                pipe.expire(f"{key}:{window}", ttl)
                pipe.get(f"{key}:{window - 1}")
            answers = await pipe.execute()
        return [(int(answers[3 * n]), int(answers[3 * n + 2] or 0)) for n in range(len(sent))]
