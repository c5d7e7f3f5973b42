"""Invitations in the tenant's schema (inside a unit of work): the e-mail sealed, found again by
its blind index, and the token only as its hash."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from simptu.runtime.core.crypto import TenantCipher

INVITATIONS = "invitations"


async def create(conn: asyncpg.Connection, cipher: TenantCipher, *, email: str, role: str,
                 token_hash: bytes, invited_by: str, ttl: dt.timedelta,
                 locale: str) -> asyncpg.Record:
    invitation_id = uuid.uuid4()
    row: asyncpg.Record = await conn.fetchrow(
        "INSERT INTO invitations (id, token_hash, email, email_index, role, invited_by, "
        "expires_at, locale) VALUES ($1, $2, $3, $4, $5, $6, now() + $7::interval, $8) "
        "RETURNING *",
        invitation_id, token_hash, await cipher.seal(INVITATIONS, "email", invitation_id, email),
        await cipher.blind_index("email", email), role, invited_by, ttl, locale)
    return row


async def pending_for(conn: asyncpg.Connection, cipher: TenantCipher,
                      email: str) -> asyncpg.Record | None:
    """A pending, unexpired invitation of this e-mail address."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM invitations WHERE email_index = $1 AND status = 'pending' "
        "AND expires_at > now() LIMIT 1", await cipher.blind_index("email", email))
    return row


async def by_token(conn: asyncpg.Connection, token_hash: bytes) -> asyncpg.Record | None:
    """The invitation of a token, locked: two accepts of one token run one after the other."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM invitations WHERE token_hash = $1 FOR UPDATE", token_hash)
    return row


async def by_id(conn: asyncpg.Connection, invitation_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM invitations WHERE id = $1 FOR UPDATE", invitation_id)
    return row


async def page(conn: asyncpg.Connection, after: tuple[dt.datetime, uuid.UUID] | None,
               limit: int) -> list[asyncpg.Record]:
    """Newest first, after position `after` (created_at, id)."""
    if after is None:
        return list(await conn.fetch(
            "SELECT * FROM invitations ORDER BY created_at DESC, id DESC LIMIT $1", limit))
    return list(await conn.fetch(
        "SELECT * FROM invitations WHERE (created_at, id) < ($1, $2) "
        "ORDER BY created_at DESC, id DESC LIMIT $3", *after, limit))


async def mark(conn: asyncpg.Connection, invitation_id: uuid.UUID, status: str,
               subject: str | None = None) -> asyncpg.Record:
    """Accepted (by `subject`) or revoked, with the time it happened."""
    row: asyncpg.Record = await conn.fetchrow(
        "UPDATE invitations SET status = $2, accepted_subject = $3, "
        "accepted_at = CASE WHEN $2 = 'accepted' THEN now() END, "
        "revoked_at = CASE WHEN $2 = 'revoked' THEN now() END "
        "WHERE id = $1 RETURNING *", invitation_id, status, subject)
    return row


def status_of(row: asyncpg.Record, now: dt.datetime) -> str:
    """What a caller sees: a pending invitation past its time is expired."""
    return "expired" if row["status"] == "pending" and row["expires_at"] <= now else str(
        row["status"])


async def email_of(cipher: TenantCipher, row: asyncpg.Record) -> str:
    """The invitation's e-mail address, opened."""
    return await cipher.open_text(INVITATIONS, "email", row["id"], row["email"])
