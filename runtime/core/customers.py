"""Customers in the tenant's schema (inside a unit of work). A realm user with the `customer`
role is the customer whose id is their token's subject (Keycloak subjects are UUIDs); their row
is made on first use, with no personal data, which the realm keeps."""

from __future__ import annotations

import uuid

import asyncpg


async def ensure_customer(conn: asyncpg.Connection, customer_id: uuid.UUID) -> None:
    await conn.execute("INSERT INTO customers (id) VALUES ($1) ON CONFLICT DO NOTHING",
                       customer_id)


async def customer_exists(conn: asyncpg.Connection, customer_id: uuid.UUID) -> bool:
    return await conn.fetchval("SELECT 1 FROM customers WHERE id = $1", customer_id) is not None
