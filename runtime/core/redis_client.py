"""The Redis client every component uses: it reconnects and retries when Redis restarts, so a
restarted Redis costs a retried command, not a failed request."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


def connect_redis(url: str, *, timeout: float = 5.0,
                  max_connections: int | None = None) -> aioredis.Redis:
    """With `max_connections`, a command waits (up to `timeout`) for a free connection of a
    pool of that size instead of failing when all are busy: what a process with bursts of
    thousands of concurrent commands (the WS hub) needs."""
    retry = Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=6)
    errors = [RedisConnectionError, RedisTimeoutError]
    if max_connections is None:
        return aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=retry,
            retry_on_error=errors, health_check_interval=30)
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=timeout, socket_timeout=timeout,
        socket_connect_timeout=timeout, retry=retry, retry_on_error=errors,
        health_check_interval=30)
    return aioredis.Redis.from_pool(pool)  # closing the client closes its pool
