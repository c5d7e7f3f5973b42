"""A rate limiter in Redis: a sliding-window log, checked and recorded atomically by one Lua
script, so concurrent requests on several replicas can never exceed the limit together."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import redis.asyncio as aioredis

from simptu.runtime.core.tenancy import TenantNames

# KEYS[1]: the window's sorted set. ARGV: now (ms), window (ms), limit, member.
# Returns {allowed (0/1), remaining, retry_after_ms}.
SLIDING_WINDOW = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local used = redis.call('ZCARD', key)
if used < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, limit - used - 1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, 0, tonumber(oldest[2]) + window - now}
"""


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    remaining: int
    retry_after: float  # seconds until the next request would be allowed


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

    async def hit(self, tenant: TenantNames, client: str) -> RateDecision:
        key = f"simptu:ratelimit:{{{tenant.slug}}}:{self.name}:{client}"
        now_ms = int(time.time() * 1000)
        allowed, remaining, retry_ms = await self._script(
            keys=[key], args=[now_ms, self.window_ms, self.limit, uuid.uuid4().hex])
        return RateDecision(bool(allowed), int(remaining), max(0, int(retry_ms)) / 1000)
