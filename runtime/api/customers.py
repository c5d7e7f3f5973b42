"""Which customer a caller books as: a realm user with the `customer` role is the customer whose
id is their token's subject (Keycloak subjects are UUIDs); their customers row is made on first
use, with no personal data, which the realm keeps."""

from __future__ import annotations

import uuid

import asyncpg

from simptu.runtime.api.auth import Caller
from simptu.runtime.api.problems import ApiProblem

BOOKING_ROLES = ("platform-admin", "tenant-admin", "staff", "customer")
ADMIN_ROLES = ("platform-admin", "tenant-admin")


def own_customer_id(caller: Caller) -> uuid.UUID | None:
    """The customer a caller is, or None for staff and admins (who see every customer)."""
    if caller.is_staff:
        return None
    try:
        return uuid.UUID(caller.subject)
    except ValueError:
        raise ApiProblem(403, "forbidden", "this token's subject is not a customer") from None


async def ensure_customer(conn: asyncpg.Connection, customer_id: uuid.UUID) -> None:
    await conn.execute("INSERT INTO customers (id) VALUES ($1) ON CONFLICT DO NOTHING",
                       customer_id)
