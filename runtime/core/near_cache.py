"""A process's own copy of values it read from the tenant cache in Redis, for reads hot enough
that the Redis round trip is most of their cost (message history).

Every invalidation of a collection is published (runtime/core/tenant_cache); each process
listens and drops its copies of that collection. A copy is kept only while the process is
subscribed: when the subscription is lost, every copy is dropped and none is kept until it is
back, since invalidations may have been missed meanwhile. A copy filled from a read that an
invalidation overtook is not kept either.

Another process's write shows here once its invalidation arrives (under a millisecond on one
network); this process's own writes drop its copies at once (`drop`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

import redis.asyncio as aioredis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from simptu.runtime.core import background
from simptu.runtime.core.tenant_cache import INVALIDATIONS_PATTERN

log = structlog.get_logger(__name__)
RESUBSCRIBE_DELAY = 1.0  # seconds between attempts while Redis cannot be reached


@dataclass
class Fill:
    """A read under way for a collection: it may keep what it read unless overtaken."""

    collection: str
    subscription: int
    overtaken: bool = False


class NearCache:
    """Up to `max_entries` values, by (collection key, name), least recently used first out."""

    def __init__(self, redis_url: str, *, max_entries: int, ttl: float) -> None:
        self.redis_url = redis_url
        self.max_entries = max_entries
        self.ttl = ttl  # as the Redis entries: a write no one announced is seen within it
        # (collection key, name) -> (value, expiry on the monotonic clock)
        self._entries: OrderedDict[tuple[str, str], tuple[bytes, float]] = OrderedDict()
        # The names kept of each collection: an announcement drops them without a scan.
        self._names: dict[str, set[str]] = {}
        self._fills: dict[str, list[Fill]] = {}
        self._subscription = 0  # renewed at every (re)subscription; 0: not subscribed
        self._listener: asyncio.Task[None] | None = None
        self._closing = False
        self.subscribed = asyncio.Event()
        # Its subscriber's name in Redis's CLIENT LIST.
        self.client_name = f"simptu-near-cache-{uuid.uuid4().hex[:12]}"

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen())

    async def aclose(self) -> None:
        # The flag too: redis-py's read timeout can swallow a cancellation that meets it, and
        # the listener would then read on; it stops at its next (bounded) read.
        self._closing = True
        await background.stop(self._listener)
        self._forget_all()

    def get(self, collection: str, name: str) -> bytes | None:
        if not self._subscription:
            return None
        entry = self._entries.get((collection, name))
        if entry is None:
            return None
        if entry[1] < time.monotonic():
            self._remove((collection, name))
            return None
        self._entries.move_to_end((collection, name))
        return entry[0]

    @contextlib.contextmanager
    def filling(self, collection: str) -> Iterator[Fill]:
        """`with near.filling(key) as fill: ...read...; near.keep(fill, name, value)`."""
        fill = Fill(collection, self._subscription)
        self._fills.setdefault(collection, []).append(fill)
        try:
            yield fill
        finally:
            fills = self._fills[collection]
            fills.remove(fill)
            if not fills:
                del self._fills[collection]

    def keep(self, fill: Fill, name: str, value: bytes) -> None:
        """Keep what `fill` read, unless an invalidation or a lost subscription overtook it."""
        if fill.overtaken or not fill.subscription or fill.subscription != self._subscription:
            return
        self._entries[(fill.collection, name)] = (value, time.monotonic() + self.ttl)
        self._entries.move_to_end((fill.collection, name))
        self._names.setdefault(fill.collection, set()).add(name)
        while len(self._entries) > self.max_entries:
            self._remove(next(iter(self._entries)))

    def _remove(self, entry: tuple[str, str]) -> None:
        del self._entries[entry]
        names = self._names[entry[0]]
        names.discard(entry[1])
        if not names:
            del self._names[entry[0]]

    def drop(self, collection: str) -> None:
        """Forget the collection's copies, and what reads under way would keep of it. A key
        ending in `*` stands for every collection it starts (all of a tenant's)."""
        if collection.endswith("*"):
            prefix = collection[:-1]
            kept = [key for key in self._names if key.startswith(prefix)]
            filling = [key for key in self._fills if key.startswith(prefix)]
        else:
            kept = filling = [collection]
        for key in kept:
            for name in list(self._names.get(key, ())):
                self._remove((key, name))
        for key in filling:
            for fill in self._fills.get(key, ()):
                fill.overtaken = True

    def _forget_all(self) -> None:
        self._subscription = 0
        self.subscribed.clear()
        self._entries.clear()
        self._names.clear()
        for fills in self._fills.values():
            for fill in fills:
                fill.overtaken = True

    async def _listen(self) -> None:
        generation = 0
        while not self._closing:
            # A client of its own, without retries: a lost connection must be seen, not
            # silently re-established with the invalidations of the gap missed.
            client = aioredis.Redis.from_url(self.redis_url, socket_connect_timeout=5,
                                             socket_keepalive=True, client_name=self.client_name,
                                             retry=Retry(NoBackoff(), 0))
            pubsub = client.pubsub()
            try:
                await pubsub.psubscribe(INVALIDATIONS_PATTERN)
                while not self._closing:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "pmessage":
                        self.drop(message["data"].decode())
                    elif message["type"] == "psubscribe":  # from now on nothing is missed
                        generation += 1
                        self._subscription = generation
                        self.subscribed.set()
            except (RedisError, OSError):
                log.warning("near cache unsubscribed; copies dropped until it is back",
                            exc_info=True)
            finally:
                self._forget_all()
                await pubsub.aclose()  # type: ignore[no-untyped-call]
                await client.aclose()
            if not self._closing:
                await asyncio.sleep(RESUBSCRIBE_DELAY)
