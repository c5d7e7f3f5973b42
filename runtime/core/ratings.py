"""Ratings in the tenant's schema (inside a unit of work): one per booking or conversation,
enforced by unique keys; the comment sealed; averages per service and staff member."""

from __future__ import annotations

import uuid

import asyncpg

from simptu.runtime.core.crypto import TenantCipher

RATINGS = "ratings"


async def add(conn: asyncpg.Connection, cipher: TenantCipher, *, subject: str, score: int,
              comment: str | None, booking_id: uuid.UUID | None = None,
              session_id: uuid.UUID | None = None, service_id: uuid.UUID | None = None,
              resource_id: uuid.UUID | None = None) -> asyncpg.Record | None:
    """The new rating, or None when the booking or conversation is rated already."""
    rating_id = uuid.uuid4()
    sealed = await cipher.seal(RATINGS, "comment", rating_id, comment) if comment else None
    row: asyncpg.Record | None = await conn.fetchrow(
        "INSERT INTO ratings (id, booking_id, session_id, service_id, resource_id, "
        "customer_subject, score, comment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "ON CONFLICT DO NOTHING RETURNING *",
        rating_id, booking_id, session_id, service_id, resource_id, subject, score, sealed)
    return row


SERVICE_SCORES = """
SELECT s.id AS service_id, s.name, count(*) AS count, round(avg(r.score), 2) AS average
FROM ratings r JOIN services s ON s.id = r.service_id GROUP BY s.id, s.name ORDER BY s.name"""
STAFF_SCORES = """
SELECT x.id AS resource_id, x.name, count(*) AS count, round(avg(r.score), 2) AS average
FROM ratings r JOIN resources x ON x.id = r.resource_id WHERE x.kind = 'staff'
GROUP BY x.id, x.name ORDER BY x.name"""
CONVERSATION_SCORES = """
SELECT count(*) AS count, round(avg(score), 2) AS average FROM ratings
WHERE session_id IS NOT NULL"""


async def summary(conn: asyncpg.Connection) -> dict[str, object]:
    return {"services": [dict(row) for row in await conn.fetch(SERVICE_SCORES)],
            "staff": [dict(row) for row in await conn.fetch(STAFF_SCORES)],
            "conversations": dict(await conn.fetchrow(CONVERSATION_SCORES))}
