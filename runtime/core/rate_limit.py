"""A rate limiter in Redis: a sliding-window log, checked and recorded atomically by one Lua
script, so concurrent requests on several replicas can never exceed the limit together.

Hits that arrive while a script call is under way wait and go together in the next call, one
per tenant (a tenant's keys share a hash slot, as Redis Cluster needs): under load a replica
makes one round trip for many requests instead of one each, and each hit is still decided
exactly, in order. A lone hit is sent at once.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Protocol

import redis.asyncio as aioredis

from simptu.runtime.core.tenancy import TenantNames

# KEYS: the window's sorted set of each hit (a key repeats when a client hits again).
# ARGV: now (ms), window (ms), limit, then one unique member per hit.
# Returns {allowed (0/1), remaining, retry_after_ms} per hit, flattened.
SLIDING_WINDOW = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local answers = {}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local used = redis.call('ZCARD', key)
  if used < limit then
    redis.call('ZADD', key, now, ARGV[3 + i])
    redis.call('PEXPIRE', key, window)
    answers[#answers + 1] = 1
    answers[#answers + 1] = limit - used - 1
    answers[#answers + 1] = 0
  else
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    answers[#answers + 1] = 0
    answers[#answers + 1] = 0
    answers[#answers + 1] = tonumber(oldest[2]) + window - now
  end
end
return answers
"""
# Hits per script call at most, so one call never blocks Redis for long.
MAX_HITS_PER_CALL = 256


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    remaining: int
    retry_after: float  # seconds until the next request would be allowed


class Limiter(Protocol):
    """A limit per (tenant, client): this exact one, or the synced one of
    runtime/core/synced_rate_limit for limits checked on every request."""

    async def hit(self, tenant: TenantNames, client: str) -> RateDecision: ...


@dataclass(frozen=True)
class _Hit:
    key: str
    member: str
    decision: asyncio.Future[RateDecision] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


class RateLimiter:
    """At most `limit` requests per `window` seconds for each (tenant, client) pair."""

    def __init__(self, redis: aioredis.Redis, name: str, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and a positive window")
        self.redis = redis
        self.name = name
        self.limit = limit
        self.window_ms = int(window * 1000)
        self._script = redis.register_script(SLIDING_WINDOW)
        # Members of the window's sets: unique across replicas, cheaper than a uuid per hit.
        instance = uuid.uuid4().hex
        self._members = (f"{instance}:{n}" for n in itertools.count())
        self._waiting: dict[str, list[_Hit]] = {}  # by tenant slug
        self._sender: asyncio.Task[None] | None = None

    async def hit(self, tenant: TenantNames, client: str) -> RateDecision:
        key = f"simptu:ratelimit:{{{tenant.slug}}}:{self.name}:{client}"
        hit = _Hit(key, next(self._members))
        self._waiting.setdefault(tenant.slug, []).append(hit)
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_waiting())
        return await hit.decision

    async def _send_waiting(self) -> None:
        try:
            while self._waiting:
                by_tenant, self._waiting = self._waiting, {}
                calls = [hits[start:start + MAX_HITS_PER_CALL] for hits in by_tenant.values()
                         for start in range(0, len(hits), MAX_HITS_PER_CALL)]
                await asyncio.gather(*(self._decide(hits) for hits in calls))
        finally:
            self._sender = None
            for hits in self._waiting.values():  # only when cancelled: no one will send them
                _fail(hits, asyncio.CancelledError())

    async def _decide(self, hits: list[_Hit]) -> None:
        try:
            answers = await self._script(
                keys=[hit.key for hit in hits],
                args=[int(time.time() * 1000), self.window_ms, self.limit,
                      *(hit.member for hit in hits)])
        except BaseException as error:  # Redis down: every waiting request hears why
            _fail(hits, error)
            if not isinstance(error, Exception):
                raise
            return
        for n, hit in enumerate(hits):
            allowed, remaining, retry_ms = answers[3 * n:3 * n + 3]
            if not hit.decision.done():  # its request may have been cancelled meanwhile
                hit.decision.set_result(RateDecision(
                    bool(allowed), int(remaining), max(0, int(retry_ms)) / 1000))


def _fail(hits: list[_Hit], error: BaseException) -> None:
    for hit in hits:
        if hit.decision.done():
            continue
        if isinstance(error, asyncio.CancelledError):
            hit.decision.cancel()
        else:
            hit.decision.set_exception(error)
