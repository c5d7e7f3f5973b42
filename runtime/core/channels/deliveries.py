"""What was delivered to customers on channels: one row per part of a reply, recorded before
the provider is called, so a sender that crashes and gets the same event again sends what it
had not sent and never repeats a call that may have reached the provider."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

# A status moves only forward: a late `delivered` never hides a `read`.
RANK = {"pending": 0, "sending": 1, "uncertain": 2, "sent": 3, "delivered": 4, "read": 5,
        "failed": 6, "refused": 6}


@dataclass(frozen=True)
class Part:
    message_id: uuid.UUID
    index: int
    status: str
    channel: str


async def record_parts(conn: asyncpg.Connection, session_id: uuid.UUID, channel: str,
                       message_id: uuid.UUID, count: int) -> list[Part]:
    """The message's `count` parts, recorded as pending unless they were before; returns
    every part as it stands. A part found `sending` was being sent when a sender stopped: it
    becomes `uncertain` and is not sent again."""
    await conn.executemany(
        "INSERT INTO channel_deliveries (message_id, part, session_id, channel, status) "
        "VALUES ($1, $2, $3, $4, 'pending') ON CONFLICT DO NOTHING",
        [(message_id, index, session_id, channel) for index in range(count)])
    await conn.execute(
        "UPDATE channel_deliveries SET status = 'uncertain', updated_at = now(), error_detail ="
        " 'the sender stopped while sending this part: it may or may not have been delivered'"
        " WHERE message_id = $1 AND status = 'sending'", message_id)
    rows = await conn.fetch("SELECT part, status FROM channel_deliveries WHERE message_id = $1 "
                            "ORDER BY part", message_id)
    return [Part(message_id, row["part"], row["status"], channel) for row in rows]


async def claim(conn: asyncpg.Connection, part: Part) -> bool:
    """Mark a pending part `sending`, if it still is pending: of several processes that found
    it pending (replicas of a scheduled job), only one sends it."""
    claimed = await conn.fetchval(
        "UPDATE channel_deliveries SET status = 'sending', attempts = attempts + 1, "
        "updated_at = now() WHERE message_id = $1 AND part = $2 AND status = 'pending' "
        "RETURNING true", part.message_id, part.index)
    return bool(claimed)


async def mark(conn: asyncpg.Connection, part: Part, status: str, *,
               provider_message_id: str | None = None, error_code: str | None = None,
               error_detail: str | None = None) -> None:
    if provider_message_id is not None:  # a status may have come for it already
        await _lock_provider_id(conn, part.channel, provider_message_id)
    await conn.execute(
        "UPDATE channel_deliveries SET status = $3, provider_message_id = COALESCE($4, "
        "provider_message_id), error_code = $5, error_detail = $6, updated_at = now(), "
        "attempts = attempts + CASE WHEN $3 = 'sending' THEN 1 ELSE 0 END "
        "WHERE message_id = $1 AND part = $2",
        part.message_id, part.index, status, provider_message_id, error_code, error_detail)
    if provider_message_id is None:
        return
    early = await conn.fetch(
        "DELETE FROM channel_early_statuses WHERE channel = $1 AND provider_message_id = $2 "
        "RETURNING status, error_code, error_detail", part.channel, provider_message_id)
    for row in sorted(early, key=lambda row: RANK.get(row["status"], -1)):
        await provider_status(conn, part.channel, provider_message_id, row["status"],
                              row["error_code"], row["error_detail"])


async def _lock_provider_id(conn: asyncpg.Connection, channel: str,
                            provider_message_id: str) -> None:
    """Until the transaction ends: recording a provider's id and a status for it take turns,
    so a status is either seen early and kept, or finds the id recorded (always taken before
    the delivery's row, so the two never wait for each other)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                       f"delivery:{channel}:{provider_message_id}")


async def provider_status(conn: asyncpg.Connection, channel: str, provider_message_id: str,
                          status: str, error_code: str | None = None,
                          error_detail: str | None = None) -> bool:
    """A status the provider reported for a message it was sent; False if it is older than
    what is recorded (statuses arrive out of order) or its send is not recorded (yet: it is
    kept until it is, see `mark`)."""
    await _lock_provider_id(conn, channel, provider_message_id)
    row = await conn.fetchrow(
        "SELECT message_id, part, status FROM channel_deliveries "
        "WHERE channel = $1 AND provider_message_id = $2 FOR UPDATE", channel, provider_message_id)
    if row is None:
        await conn.execute("DELETE FROM channel_early_statuses "
                           "WHERE received_at < now() - interval '1 day'")
        await conn.execute(
            "INSERT INTO channel_early_statuses (channel, provider_message_id, status, "
            "error_code, error_detail) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            channel, provider_message_id, status, error_code, error_detail)
        return False
    if RANK.get(status, -1) <= RANK[row["status"]]:
        return False
    await mark(conn, Part(row["message_id"], row["part"], row["status"], channel), status,
               error_code=error_code, error_detail=error_detail)
    return True


async def of_session(conn: asyncpg.Connection, session_id: uuid.UUID) -> list[asyncpg.Record]:
    """Every part delivered (or not) in a conversation, oldest first: what staff see."""
    return list(await conn.fetch(
        "SELECT message_id, part, channel, status, provider_message_id, error_code, "
        "error_detail, attempts, created_at, updated_at FROM channel_deliveries "
        "WHERE session_id = $1 ORDER BY created_at, message_id, part", session_id))
