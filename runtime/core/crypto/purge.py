"""Telling every process to drop a tenant's cached keys: a Redis pub/sub channel.

A message names only the tenant and why (`rotated`, `shredded`); no key material ever goes
through Redis. Pub/sub is fire-and-forget, so a listener that lost its connection may have
missed messages: it reports every (re)subscription and failure as a gap, and the key ring then
drops everything it cached. The cache's time to live bounds what a gap can leave behind.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from simptu.runtime.core import background

log = logging.getLogger(__name__)

# One channel per tenant (a tenant's agent may listen to its own only: its Redis ACL user);
# the shared runtimes listen to every tenant's through the pattern.
PURGE_PATTERN = "simptu:crypto:*:purge"
ChangeReason = Literal["rotated", "shredded"]
SUBSCRIBED = ("subscribe", "psubscribe")
MESSAGES = ("message", "pmessage")


@dataclass(frozen=True)
class KeyChange:
    tenant: str
    reason: ChangeReason


async def announce_key_change(redis: aioredis.Redis, tenant: str, reason: ChangeReason) -> int:
    """Publish a key change; returns how many listeners received it."""
    message = json.dumps({"tenant": tenant, "reason": reason})
    receivers: int = await redis.publish(purge_channel(tenant), message)
    return receivers


def purge_channel(tenant: str) -> str:
    """`simptu:crypto:{<slug>}:purge`: where the tenant's key changes are announced."""
    return f"simptu:crypto:{{{tenant}}}:purge"


def _parse(data: Any) -> KeyChange | None:
    try:
        body = json.loads(data)
        return KeyChange(str(body["tenant"]), body["reason"])
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring a malformed key change message")
        return None


class PurgeListener:
    """Subscribes to the purge channels (every tenant's, or only `tenant`'s) and calls
    `on_change` per message, `on_gap` whenever messages may have been missed (each
    subscription, each connection failure)."""

    def __init__(self, redis: aioredis.Redis, on_change: Callable[[KeyChange], None],
                 on_gap: Callable[[], None], *, tenant: str | None = None,
                 subscribe_timeout: float = 5.0, max_backoff: float = 5.0) -> None:
        self._pubsub = redis.pubsub()
        self._tenant = tenant
        self._on_change = on_change
        self._on_gap = on_gap
        self._subscribe_timeout = subscribe_timeout
        self._max_backoff = max_backoff
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        """Subscribe and return once the subscription is confirmed."""
        if self._tenant is None:
            await self._pubsub.psubscribe(PURGE_PATTERN)
        else:
            await self._pubsub.subscribe(purge_channel(self._tenant))
        async with asyncio.timeout(self._subscribe_timeout):
            while True:
                message = await self._pubsub.get_message(timeout=self._subscribe_timeout)
                if message is not None and message["type"] in SUBSCRIBED:
                    break
        self._on_gap()  # anything cached before we listened may be stale
        self._task = asyncio.create_task(self._listen(), name="crypto-purge-listener")

    def _handle(self, message: dict[str, Any] | None) -> None:
        if message is None:
            return
        if message["type"] in SUBSCRIBED:  # a re-subscription after a reconnect
            self._on_gap()
        elif message["type"] in MESSAGES and (change := _parse(message["data"])):
            self._on_change(change)

    async def _listen(self) -> None:
        backoff = 0.1
        while not self._closing:
            try:
                self._handle(await self._pubsub.get_message(timeout=1.0))
                backoff = 0.1
            except (RedisError, OSError) as error:
                self._on_gap()
                log.warning("purge channel unavailable (%s); retrying in %.1fs", error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)

    async def aclose(self) -> None:
        # The flag too: redis-py's read timeout can swallow a cancellation that meets it, and
        # the listener would then read on; it stops at its next (bounded) read.
        self._closing = True
        await background.stop(self._task)
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
