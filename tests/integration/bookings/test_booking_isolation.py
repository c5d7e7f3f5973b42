"""One tenant's bookings are invisible and untouchable to another: the tenant roles keep each
booking engine inside its own schema."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from simptu.runtime.core.bookings import CancelRequest, NotFound, book, cancel, get_booking
from simptu.runtime.core.bookings.catalogue import list_services
from simptu.runtime.core.database import TenantUnitOfWork

from .conftest import TZ, Catalogue, MakeTenant, bookings_of, seed_test_catalogue


async def test_another_tenant_cannot_see_or_cancel_a_booking(
    db: asyncpg.Pool, catalogue: Catalogue, customer: uuid.UUID, make_tenant: MakeTenant,
) -> None:
    other = await make_tenant("other")
    async with TenantUnitOfWork(db, other) as conn:
        await seed_test_catalogue(conn, other)
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        booked = await book(conn, catalogue.tenant, catalogue.cleaning_at(customer), TZ)
    assert await bookings_of(db, other) == []
    with pytest.raises(NotFound):
        async with TenantUnitOfWork(db, other) as conn:
            await get_booking(conn, booked.id)
    with pytest.raises(NotFound):
        async with TenantUnitOfWork(db, other) as conn:
            await cancel(conn, other, CancelRequest(booking_id=booked.id))
    assert [r["status"] for r in await bookings_of(db, catalogue.tenant)] == ["booked"]


async def test_another_tenant_s_booking_tables_are_denied_even_fully_qualified(
    db: asyncpg.Pool, catalogue: Catalogue, make_tenant: MakeTenant,
) -> None:
    other = await make_tenant("other")
    theirs = catalogue.tenant.schema
    for sql in (f"SELECT count(*) FROM {theirs}.bookings",
                f"UPDATE {theirs}.bookings SET status = 'cancelled'",
                f"SELECT count(*) FROM {theirs}.services",
                f"DELETE FROM {theirs}.idempotency_records"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with TenantUnitOfWork(db, other) as conn:
                await conn.execute(sql)
    async with TenantUnitOfWork(db, other) as conn:
        assert await list_services(conn) == []


async def test_a_unit_of_work_of_one_tenant_cannot_book_for_another(
    db: asyncpg.Pool, catalogue: Catalogue, customer: uuid.UUID, make_tenant: MakeTenant,
) -> None:
    """Naming the wrong tenant (whose outbox topic the event would go to) is refused."""
    other = await make_tenant("other")
    with pytest.raises(PermissionError, match="use a TenantUnitOfWork of that tenant"):
        async with TenantUnitOfWork(db, catalogue.tenant) as conn:
            await book(conn, other, catalogue.cleaning_at(customer), TZ)
    assert await bookings_of(db, catalogue.tenant) == []
