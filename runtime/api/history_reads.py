"""Message history through the sealed page cache (runtime/core/chat/history_cache): a page read
again is answered from this process's own copy or from Redis, without a transaction; every
message posted (runtime/core/chat/actions) forgets the session's pages once it has committed."""

from __future__ import annotations

import uuid

from fastapi import Request

from simptu.runtime.api.chat_models import MessagePage
from simptu.runtime.api.dependencies import platform_of
from simptu.runtime.api.hot_reads import tenant_cache
from simptu.runtime.api.metrics import HOT_READS
from simptu.runtime.api.pagination import encode_cursor
from simptu.runtime.api.platform import ApiPlatform
from simptu.runtime.api.problems import ApiProblem
from simptu.runtime.core.chat import store as chat_store
from simptu.runtime.core.chat.access import Principal, may_see
from simptu.runtime.core.chat.history_cache import (
    HistoryCache,
    HistoryPage,
)
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord

COLLECTION = "chat-history"  # its label in the hot-read metric
# The metric's outcome by where a page came from ("local": this process's own copy).
OUTCOMES = {"local": "local", "redis": "hit", "load": "miss"}


def unknown_session(session_id: uuid.UUID) -> ApiProblem:
    return ApiProblem(404, "unknown-session", f"there is no chat session {session_id}")


async def history_page(request: Request, tenant: TenantRecord, viewer: Principal,
                       session_id: uuid.UUID, after: int, limit: int) -> bytes:
    """The JSON of a `MessagePage`: `limit` messages after seq `after`, for a viewer who may
    see the session (404 for anyone else, and for a session that does not exist)."""
    platform = platform_of(request)

    async def load() -> HistoryPage | None:
        return await _load_page(platform, tenant, viewer, session_id, after, limit)

    if platform.settings.api_history_cache:
        cache = HistoryCache(tenant_cache(request, tenant), platform.keyring.cipher(tenant.names),
                             platform.near_cache)
        page, source = await cache.page(session_id, f"{after}:{limit}", load)
    else:
        page, source = await load(), "load"
    HOT_READS.labels(COLLECTION, OUTCOMES[source]).inc()
    if page is None or not may_see(viewer, page.access):
        raise unknown_session(session_id)
    return page.body


async def _load_page(platform: ApiPlatform, tenant: TenantRecord, viewer: Principal,
                     session_id: uuid.UUID, after: int, limit: int) -> HistoryPage | None:
    async with TenantUnitOfWork(platform.pool, tenant.names) as conn:
        session, sealed = await chat_store.session_and_history(conn, session_id, after,
                                                               limit + 1)
        if session is None:
            return None
        if not may_see(viewer, session):  # nothing is opened (or kept) for them
            raise unknown_session(session_id)
        rows = await chat_store.open_messages(platform.keyring.cipher(tenant.names, conn),
                                              sealed)
    next_cursor = encode_cursor({"seq": rows[limit - 1]["seq"]}) if len(rows) > limit else None
    page = MessagePage.model_validate({"items": rows[:limit], "next_cursor": next_cursor})
    return HistoryPage(session, page.model_dump_json().encode())
