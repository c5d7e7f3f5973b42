"""The record of each platform mail (inside a unit of work), written before the relay is
called: a mail is `pending`, then `sending` (committed just before the hand-over), then `sent`,
`failed` (the relay refused it for good, or after every try) or `uncertain` (the mailer
stopped during the hand-over: it may have gone, so it is never sent again)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from simptu.runtime.core.mail import MailKind

FINAL = ("sent", "failed", "uncertain")


@dataclass(frozen=True)
class MailRecord:
    event_id: str
    status: str
    message_id: str
    attempts: int


async def record(conn: asyncpg.Connection, event_id: str, kind: MailKind,
                 message_id: str) -> MailRecord:
    """The mail of `event_id`, recorded as pending unless it was before. One found `sending`
    was being handed over when a mailer stopped: it becomes `uncertain`."""
    await conn.execute(
        "INSERT INTO platform_mails (event_id, kind, status, message_id) "
        "VALUES ($1, $2, 'pending', $3) ON CONFLICT DO NOTHING", event_id, kind, message_id)
    row = await conn.fetchrow(
        "UPDATE platform_mails SET status = CASE WHEN status = 'sending' THEN 'uncertain' "
        "ELSE status END, error_detail = CASE WHEN status = 'sending' THEN 'the mailer stopped "
        "while handing this mail over: it may or may not have been sent' ELSE error_detail END,"
        " updated_at = now() WHERE event_id = $1 RETURNING status, message_id, attempts",
        event_id)
    return MailRecord(event_id, row["status"], row["message_id"], row["attempts"])


async def claim(conn: asyncpg.Connection, event_id: str) -> bool:
    """Pending → sending, counting an attempt; False when another mailer claimed it first
    (two may hold one partition for a moment while the consumer group rebalances)."""
    claimed = await conn.fetchval(
        "UPDATE platform_mails SET status = 'sending', attempts = attempts + 1, "
        "updated_at = now() WHERE event_id = $1 AND status = 'pending' RETURNING true",
        event_id)
    return bool(claimed)


async def mark(conn: asyncpg.Connection, event_id: str, status: str, *,
               error_code: str | None = None, error_detail: str | None = None) -> None:
    await conn.execute(
        "UPDATE platform_mails SET status = $2, error_code = $3, error_detail = $4, "
        "updated_at = now() WHERE event_id = $1", event_id, status, error_code, error_detail)


async def of_event(conn: asyncpg.Connection, event_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM platform_mails WHERE event_id = $1", event_id)
    return row


async def recent(conn: asyncpg.Connection, status: str | None,
                 limit: int) -> list[asyncpg.Record]:
    """The newest mails (of one status, if given): what admins look at."""
    return list(await conn.fetch(
        "SELECT * FROM platform_mails WHERE $1::text IS NULL OR status = $1 "
        "ORDER BY created_at DESC, event_id LIMIT $2", status, limit))
