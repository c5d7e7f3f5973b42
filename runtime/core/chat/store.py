"""Chat sessions and their messages in the tenant's schema (inside a unit of work); message
bodies and hand-off notes are sealed by the tenant's cipher, never stored in clear."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from simptu.runtime.core.crypto import TenantCipher

MESSAGES = "chat_messages"
SESSIONS = "chat_sessions"


async def create_session(conn: asyncpg.Connection, session_id: uuid.UUID, *, channel: str,
                         locale: str, guest: bool = False, owner_subject: str | None = None,
                         customer_id: uuid.UUID | None = None) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        "INSERT INTO chat_sessions (id, channel, locale, guest, owner_subject, customer_id) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        session_id, channel, locale, guest, owner_subject, customer_id)
    return row


async def get_session(conn: asyncpg.Connection, session_id: uuid.UUID,
                      *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT * FROM chat_sessions WHERE id = $1{lock}", session_id)  # noqa: S608 - fixed SQL
    return row


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions a list shows. `owner`/`only_id` restrict it to what the caller may see."""

    owner: str | None = None
    only_id: uuid.UUID | None = None
    channel: str | None = None
    status: str | None = None
    customer_id: uuid.UUID | None = None
    created_from: dt.datetime | None = None
    created_until: dt.datetime | None = None


async def list_sessions(conn: asyncpg.Connection, where: SessionFilter,
                        after: tuple[dt.datetime, uuid.UUID] | None,
                        limit: int) -> list[asyncpg.Record]:
    """Newest first, the page after position `after` (created_at, id)."""
    conditions: list[str] = []
    values: list[object] = []
    for column, value, operator in (
            ("owner_subject", where.owner, "="), ("id", where.only_id, "="),
            ("channel", where.channel, "="), ("status", where.status, "="),
            ("customer_id", where.customer_id, "="), ("created_at", where.created_from, ">="),
            ("created_at", where.created_until, "<")):
        if value is not None:
            values.append(value)
            conditions.append(f"{column} {operator} ${len(values)}")
    if after is not None:
        values.extend(after)
        conditions.append(f"(created_at, id) < (${len(values) - 1}, ${len(values)})")
    values.append(limit)
    sql = ("SELECT * FROM chat_sessions"  # noqa: S608 - columns fixed above, values bound
           + (" WHERE " + " AND ".join(conditions) if conditions else "")
           + f" ORDER BY created_at DESC, id DESC LIMIT ${len(values)}")
    return list(await conn.fetch(sql, *values))


async def add_message(conn: asyncpg.Connection, cipher: TenantCipher, session_id: uuid.UUID,
                      author: str, author_subject: str | None,
                      text: str, *, message_id: uuid.UUID | None = None,
                      client_msg_id: str | None = None) -> tuple[asyncpg.Record, bytes]:
    """Store a message sealed; returns its row and the sealed body. `message_id` lets a
    writer that may run twice (the agent replaying an event) give it the same id each time;
    `client_msg_id` is the sender's own id of it (a repeat finds the first)."""
    message_id = message_id or uuid.uuid4()
    sealed = await cipher.seal(MESSAGES, "body", message_id, text)
    row: asyncpg.Record = await conn.fetchrow(
        "INSERT INTO chat_messages (id, session_id, author, author_subject, body, client_msg_id) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, session_id, seq, author, created_at",
        message_id, session_id, author, author_subject, sealed, client_msg_id)
    await conn.execute("UPDATE chat_sessions SET updated_at = now() WHERE id = $1", session_id)
    return row, sealed


async def history(conn: asyncpg.Connection, cipher: TenantCipher, session_id: uuid.UUID,
                  after_seq: int, limit: int) -> list[dict[str, object]]:
    """Messages in conversation order after `after_seq`, opened."""
    rows = await conn.fetch(
        "SELECT id, session_id, seq, author, body, created_at FROM chat_messages "
        "WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3", session_id, after_seq, limit)
    return await open_messages(cipher, rows)


# The session's columns who-may-see needs, and its messages after a seq, in one round trip
# (history is the API's hottest read): one row per message, or one with NULL message columns.
SESSION_WITH_HISTORY = """
    SELECT s.id AS session_id, s.owner_subject, s.customer_id,
           m.id, m.seq, m.author, m.body, m.created_at
    FROM chat_sessions s
    LEFT JOIN LATERAL (SELECT id, seq, author, body, created_at FROM chat_messages
                       WHERE session_id = s.id AND seq > $2 ORDER BY seq LIMIT $3) m ON true
    WHERE s.id = $1
    ORDER BY m.seq"""


async def session_and_history(conn: asyncpg.Connection, session_id: uuid.UUID, after_seq: int,
                              limit: int) -> tuple[dict[str, object] | None,
                                                   list[asyncpg.Record]]:
    """The session's access columns (`id`, `owner_subject`, `customer_id`; None if there is
    no such session) and its messages after `after_seq`, still sealed: the caller decides
    whether they may be opened."""
    rows = await conn.fetch(SESSION_WITH_HISTORY, session_id, after_seq, limit)
    if not rows:
        return None, []
    first = rows[0]
    session = {"id": first["session_id"], "owner_subject": first["owner_subject"],
               "customer_id": first["customer_id"]}
    return session, [row for row in rows if row["id"] is not None]


async def open_messages(cipher: TenantCipher,
                        rows: list[asyncpg.Record]) -> list[dict[str, object]]:
    """Message rows with their `text` opened."""
    texts = await cipher.open_texts(MESSAGES, "body", [(row["id"], row["body"]) for row in rows])
    return [{**dict(row), "text": text} for row, text in zip(rows, texts, strict=True)]


async def set_status(conn: asyncpg.Connection, session_id: uuid.UUID, status: str, *,
                     handoff_note: bytes | None = None,
                     handed_off_by: str | None = None) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        "UPDATE chat_sessions SET status = $2, updated_at = now(), "
        "closed_at = CASE WHEN $2 = 'closed' THEN now() ELSE closed_at END, "
        "handoff_note = COALESCE($3, handoff_note), "
        "handed_off_by = COALESCE($4, handed_off_by) WHERE id = $1 RETURNING *",
        session_id, status, handoff_note, handed_off_by)
    return row
