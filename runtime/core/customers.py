"""Customers in the tenant's schema (inside a unit of work). A realm user with the `customer`
role is the customer whose id is their token's subject (Keycloak subjects are UUIDs); their row
is made on first use, with no personal data, which the realm keeps."""

from __future__ import annotations

import uuid

import asyncpg

from simptu.runtime.core.crypto import TenantCipher

CUSTOMERS = "customers"


async def ensure_customer(conn: asyncpg.Connection, customer_id: uuid.UUID) -> None:
    await conn.execute("INSERT INTO customers (id) VALUES ($1) ON CONFLICT DO NOTHING",
                       customer_id)


async def customer_exists(conn: asyncpg.Connection, customer_id: uuid.UUID) -> bool:
    return await conn.fetchval("SELECT 1 FROM customers WHERE id = $1", customer_id) is not None


async def ensure_customer_with_email(conn: asyncpg.Connection, cipher: TenantCipher,
                                     customer_id: uuid.UUID, email: str, locale: str) -> None:
    """A customer the business mails (their bookings' confirmations, access codes): the
    address sealed, with its blind index, and the language of their mails."""
    await conn.execute(
        "INSERT INTO customers (id, email, email_index, locale) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (id) DO UPDATE SET email = excluded.email, "
        "email_index = excluded.email_index, locale = excluded.locale, updated_at = now()",
        customer_id, await cipher.seal(CUSTOMERS, "email", customer_id, email),
        await cipher.blind_index("email", email), locale)
