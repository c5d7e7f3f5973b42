"""Idempotency-Key records: the same key with the same request gets the first result again,
the same key with another request an error; kept in the transaction that does the work."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import asyncpg
from pydantic import BaseModel

from simptu.runtime.core.bookings.errors import IdempotencyKeyReused, InvalidRequest

MAX_KEY_LENGTH = 255


def request_hash(request: BaseModel) -> str:
    """A digest of the request as validated (so `"1"` and `1` are one request)."""
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


async def claim(conn: asyncpg.Connection, key: str, operation: str,
                request: BaseModel) -> dict[str, Any] | None:
    """Claim `key` for `operation`: None if it is new (the caller does the work and stores its
    result), else the stored result. A concurrent request with the key waits here until the
    first one's transaction ends."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidRequest(f"an Idempotency-Key has 1 to {MAX_KEY_LENGTH} characters")
    digest = request_hash(request)
    if await conn.fetchval(
            "INSERT INTO idempotency_records (key, operation, request_hash) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING RETURNING true", key, operation, digest):
        return None
    row = await conn.fetchrow("SELECT request_hash, result FROM idempotency_records "
                              "WHERE key = $1 AND operation = $2", key, operation)
    if row["request_hash"] != digest:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {key!r} was already used for a different {operation} request; "
            "use a new key for a new request")
    result: dict[str, Any] = json.loads(row["result"])
    return result


async def store_result(conn: asyncpg.Connection, key: str, operation: str,
                       result: BaseModel) -> None:
    await conn.execute("UPDATE idempotency_records SET result = $3::jsonb "
                       "WHERE key = $1 AND operation = $2", key, operation,
                       result.model_dump_json())


async def purge_idempotency_records(conn: asyncpg.Connection, older_than_hours: int = 24) -> int:
    """Forget keys older than `older_than_hours` (clients retry within minutes); returns how
    many were removed."""
    done: str = await conn.execute(
        "DELETE FROM idempotency_records WHERE created_at < now() - make_interval(hours => $1)",
        older_than_hours)
    return int(done.split()[-1])
