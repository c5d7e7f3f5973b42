"""Pages of a session's message history kept in Redis, sealed with the tenant's data key.

History is the API's hottest read (a staff inbox switching conversations, a customer's page
reloading, a socket rejoining). A page read again costs one Redis call and one AES-GCM open
instead of a transaction and an open per message, and Redis never holds a readable message.
A process that keeps its own copies of pages (runtime/core/near_cache) skips the Redis call too.

Each session's pages are one collection of the tenant's cache (runtime/core/tenant_cache): the
conversation's use cases (runtime/core/chat/actions), which every writer of a message calls,
register `forget_history` to run once their unit of work has committed, and a page loaded while
a write commits is not stored. A writer that dies between
its commit and `forget_history` leaves the old pages for the cache's TTL at most.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from simptu.runtime.core.crypto import TamperedField, TenantCipher
from simptu.runtime.core.near_cache import Fill, NearCache
from simptu.runtime.core.tenancy import TenantNames
from simptu.runtime.core.tenant_cache import TenantCache

# Where a sealed page belongs (its associated data): a page opens only as the page it was.
SEALED_AS = ("chat_sessions", "history_page")
log = structlog.get_logger(__name__)


def history_collection(session_id: uuid.UUID) -> str:
    return f"chat-history:{session_id}"


@dataclass(frozen=True)
class HistoryPage:
    """A page as the API answers it (`body`, JSON), with the columns that decide who may see
    it (`access`: the session's `id`, `owner_subject` and `customer_id`, for `may_see`)."""

    access: Mapping[str, Any]
    body: bytes

    def pack(self) -> bytes:
        access = {"id": str(self.access["id"]), "owner_subject": self.access["owner_subject"],
                  "customer_id": _text_or_none(self.access["customer_id"])}
        return json.dumps(access).encode() + b"\n" + self.body  # JSON has no raw newline

    @classmethod
    def unpack(cls, packed: bytes) -> HistoryPage:
        head, _, body = packed.partition(b"\n")
        access = json.loads(head)
        return cls({"id": uuid.UUID(access["id"]), "owner_subject": access["owner_subject"],
                    "customer_id": _uuid_or_none(access["customer_id"])}, body)


class HistoryCache:
    """`page, source = await cache.page(session_id, "0:50", load)`: the page named `name` from
    this process's copies (`near`, if given), from Redis, or `load()`'s (None for no such
    session, which is not kept); `source` says which: "local", "redis" or "load"."""

    def __init__(self, cache: TenantCache, cipher: TenantCipher,
                 near: NearCache | None = None) -> None:
        self.cache = cache
        self.cipher = cipher
        self.near = near

    async def page(self, session_id: uuid.UUID, name: str,
                   load: Callable[[], Awaitable[HistoryPage | None]],
                   ) -> tuple[HistoryPage | None, str]:
        collection = history_collection(session_id)
        key = self.cache.key(collection)
        local = self.near.get(key, name) if self.near else None
        if local is not None and (page := await self._open(session_id, name, local)):
            return page, "local"
        with self.near.filling(key) if self.near else contextlib.nullcontext() as fill:
            generation, sealed = await self.cache.lookup(collection, name)
            if sealed is not None and (page := await self._open(session_id, name, sealed)):
                self._keep(fill, name, sealed)
                return page, "redis"
            page = await load()
            if page is not None:
                sealed = await self.cipher.seal(*SEALED_AS, f"{session_id}/{name}", page.pack())
                if await self.cache.store_if_current(collection, generation, name, sealed):
                    self._keep(fill, name, sealed)
            return page, "load"

    def _keep(self, fill: Fill | None, name: str, sealed: bytes) -> None:
        if self.near is not None and fill is not None:
            self.near.keep(fill, name, sealed)

    async def _open(self, session_id: uuid.UUID, name: str, sealed: bytes) -> HistoryPage | None:
        try:
            return HistoryPage.unpack(
                await self.cipher.open(*SEALED_AS, f"{session_id}/{name}", sealed))
        except TamperedField:
            # Altered in Redis, or sealed with a key version since retired: read it again.
            log.warning("cached history page does not open", session_id=str(session_id))
            return None


async def forget_history(redis: aioredis.Redis, tenant: TenantNames, session_id: uuid.UUID,
                         near: NearCache | None = None) -> None:
    """After a commit that changed the session's messages or who may see them. This process's
    own copies (`near`) go at once; other processes' when the announcement reaches them."""
    cache = TenantCache(redis, tenant)
    if near is not None:
        near.drop(cache.key(history_collection(session_id)))
    try:
        await cache.invalidate_collections(history_collection(session_id))
    except RedisError:
        # Committed all the same; the cached pages expire within the cache's TTL.
        log.exception("cached history not forgotten", session_id=str(session_id))


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)
