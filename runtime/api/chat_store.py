"""Chat sessions and their messages in the tenant's schema (inside a unit of work); message
bodies and hand-off notes are sealed by the tenant's cipher, never stored in clear."""

from __future__ import annotations

import uuid

import asyncpg


async def create_session(conn: asyncpg.Connection, session_id: uuid.UUID, *, channel: str,
                         locale: str, guest: bool = False, owner_subject: str | None = None,
                         customer_id: uuid.UUID | None = None) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        "INSERT INTO chat_sessions (id, channel, locale, guest, owner_subject, customer_id) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        session_id, channel, locale, guest, owner_subject, customer_id)
    return row
