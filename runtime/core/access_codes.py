"""Customers' access codes in the tenant's schema (inside a unit of work). A code is eight
digits, so a plain hash would be reversed by trying them all: it is stored as the tenant-keyed
HMAC (the blind index key) of customer and code, useless without the tenant's key."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

import asyncpg

from simptu.runtime.core.crypto import TenantCipher

Outcome = Literal["redeemed", "wrong", "used", "expired", "locked"]


async def code_hash(cipher: TenantCipher, customer_id: uuid.UUID, code: str) -> bytes:
    return await cipher.blind_index("access_code", f"{customer_id}:{code}")


async def issue(conn: asyncpg.Connection, cipher: TenantCipher, customer_id: uuid.UUID,
                code: str, *, issued_by: str, ttl: dt.timedelta,
                max_attempts: int) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        "INSERT INTO access_codes (id, customer_id, code_hash, issued_by, expires_at, "
        "max_attempts) VALUES ($1, $2, $3, $4, now() + $5::interval, $6) RETURNING *",
        uuid.uuid4(), customer_id, await code_hash(cipher, customer_id, code), issued_by, ttl,
        max_attempts)
    return row


async def find_customer(conn: asyncpg.Connection, cipher: TenantCipher, *,
                        customer_id: uuid.UUID | None, email: str | None,
                        phone: str | None) -> uuid.UUID | None:
    """The customer by id, or by the blind index of their e-mail or phone."""
    if customer_id is not None:
        found: uuid.UUID | None = await conn.fetchval(
            "SELECT id FROM customers WHERE id = $1", customer_id)
    elif email is not None:
        found = await conn.fetchval("SELECT id FROM customers WHERE email_index = $1 LIMIT 1",
                                    await cipher.blind_index("email", email))
    else:
        found = await conn.fetchval("SELECT id FROM customers WHERE phone_index = $1 LIMIT 1",
                                    await cipher.blind_index("phone", phone or ""))
    return found


async def redeem(conn: asyncpg.Connection, cipher: TenantCipher, customer_id: uuid.UUID,
                 code: str) -> Outcome:
    """Use the code once. A wrong one counts against every live code of the customer, so
    guessing is cut off after `max_attempts` whatever the limiter allows."""
    row = await conn.fetchrow("SELECT * FROM access_codes WHERE code_hash = $1 FOR UPDATE",
                              await code_hash(cipher, customer_id, code))
    if row is None:
        await conn.execute(
            "UPDATE access_codes SET attempts = attempts + 1 WHERE customer_id = $1 "
            "AND redeemed_at IS NULL AND expires_at > now() AND attempts < max_attempts",
            customer_id)
        return "wrong"
    if row["redeemed_at"] is not None:
        return "used"
    if row["expires_at"] <= dt.datetime.now(dt.UTC):
        return "expired"
    if row["attempts"] >= row["max_attempts"]:
        return "locked"
    await conn.execute("UPDATE access_codes SET redeemed_at = now() WHERE id = $1", row["id"])
    return "redeemed"
