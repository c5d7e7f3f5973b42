"""A customer who writes again while the agent is still answering ("double texting"). Turns of
one session run in order (its events share a partition), so `enqueue` needs nothing here;
`reject` answers a message that arrived during a turn with a request to wait (see `turn`);
`interrupt` drops the running turn when a newer message arrives, and the newest message's
turn answers every message since the agent's last reply."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable

import asyncpg

from simptu.runtime.core.chat import store
from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

NEWER_MESSAGE = ("SELECT EXISTS (SELECT 1 FROM chat_messages WHERE session_id = $1 "
                 "AND author = 'customer' AND seq > $2)")


class TurnSuperseded(Exception):
    """A newer message of the session arrived: this turn stops, the newer one answers."""


async def unanswered_texts(conn: asyncpg.Connection, cipher: TenantCipher,
                           session_id: uuid.UUID, seq: int) -> str | None:
    """The customer's messages since the last answer (the agent's, or staff's while the
    conversation was with them), up to `seq`, as one text; None when a newer customer message
    exists (its turn will answer them all)."""
    if await conn.fetchval(NEWER_MESSAGE, session_id, seq):
        return None
    last_reply = await conn.fetchval(
        "SELECT coalesce(max(seq), 0) FROM chat_messages WHERE session_id = $1 "
        "AND author IN ('agent', 'staff') AND seq < $2", session_id, seq)
    messages = await store.history(conn, cipher, session_id, last_reply, seq - last_reply)
    return "\n".join(str(m["text"]) for m in messages if m["author"] == "customer")


async def watch_for_newer(turn: Awaitable[None], pool: asyncpg.Pool, tenant: TenantNames,
                          session_id: uuid.UUID, seq: int, every: float) -> None:
    """Run `turn`, cancelling it (`TurnSuperseded`) if a newer customer message arrives."""
    running = asyncio.ensure_future(turn)
    try:
        while not running.done():
            await asyncio.wait({running}, timeout=every)
            if running.done():
                break
            async with TenantUnitOfWork(pool, tenant) as conn:
                if await conn.fetchval(NEWER_MESSAGE, session_id, seq):
                    running.cancel()
                    # The turn must have left the connection before its savepoint rolls back.
                    with contextlib.suppress(asyncio.CancelledError):
                        await running
                    raise TurnSuperseded(f"a message after {seq} arrived")
        running.result()
    finally:
        if not running.done():
            running.cancel()
