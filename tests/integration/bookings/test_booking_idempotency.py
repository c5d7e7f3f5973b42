"""Idempotency-Key: a retried request gets the first result and changes nothing more; the key
with a different request is refused; retries racing each other still book once."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from simptu.runtime.core.bookings import (
    Booking,
    CancelRequest,
    IdempotencyKeyReused,
    SlotTaken,
    book,
    cancel,
)
from simptu.runtime.core.bookings.idempotency import purge_idempotency_records
from simptu.runtime.core.database import TenantUnitOfWork

from .conftest import TZ, Catalogue, MakeCustomers, bookings_of, outbox_events


async def test_a_retried_booking_gets_the_same_booking_and_one_event(
    db: asyncpg.Pool, catalogue: Catalogue, customer: uuid.UUID,
) -> None:
    request = catalogue.cleaning_at(customer)
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        first = await book(conn, catalogue.tenant, request, TZ, idempotency_key="k-1")
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        again = await book(conn, catalogue.tenant, request, TZ, idempotency_key="k-1")
    assert again == first
    assert len(await bookings_of(db, catalogue.tenant)) == 1
    assert len(await outbox_events(db, catalogue.tenant)) == 1


async def test_the_same_key_with_another_request_is_refused_and_changes_nothing(
    db: asyncpg.Pool, catalogue: Catalogue, customer: uuid.UUID,
) -> None:
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        await book(conn, catalogue.tenant, catalogue.cleaning_at(customer, "09:00"), TZ,
                   idempotency_key="k-1")
    with pytest.raises(IdempotencyKeyReused, match="already used for a different book"):
        async with TenantUnitOfWork(db, catalogue.tenant) as conn:
            await book(conn, catalogue.tenant, catalogue.cleaning_at(customer, "10:00"), TZ,
                       idempotency_key="k-1")
    assert len(await bookings_of(db, catalogue.tenant)) == 1


async def test_a_key_is_per_operation(db: asyncpg.Pool, catalogue: Catalogue,
                                      customer: uuid.UUID) -> None:
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        booked = await book(conn, catalogue.tenant, catalogue.cleaning_at(customer), TZ,
                            idempotency_key="k-1")
        cancelled = await cancel(conn, catalogue.tenant, CancelRequest(booking_id=booked.id),
                                 idempotency_key="k-1")
        retried = await cancel(conn, catalogue.tenant, CancelRequest(booking_id=booked.id),
                               idempotency_key="k-1")
    assert cancelled.status == retried.status == "cancelled"
    assert [e.type for e in await outbox_events(db, catalogue.tenant)] == [
        "io.simptu.booking.created", "io.simptu.booking.cancelled"]


async def test_a_failed_request_does_not_use_up_its_key(
    db: asyncpg.Pool, catalogue: Catalogue, make_customers: MakeCustomers,
) -> None:
    first, second = await make_customers(catalogue.tenant, 2)
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        blocker = await book(conn, catalogue.tenant, catalogue.cleaning_at(first), TZ)
    with pytest.raises(SlotTaken):
        async with TenantUnitOfWork(db, catalogue.tenant) as conn:
            await book(conn, catalogue.tenant, catalogue.cleaning_at(second), TZ,
                       idempotency_key="k-2")
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        await cancel(conn, catalogue.tenant, CancelRequest(booking_id=blocker.id))
        retried = await book(conn, catalogue.tenant, catalogue.cleaning_at(second), TZ,
                             idempotency_key="k-2")
    assert retried.customer_id == second


async def test_parallel_retries_with_one_key_book_once_and_all_get_that_booking(
    wide_pool: asyncpg.Pool, db: asyncpg.Pool, catalogue: Catalogue, customer: uuid.UUID,
) -> None:
    request = catalogue.cleaning_at(customer)
    ready = asyncio.Barrier(10)

    async def retry() -> Booking:
        async with TenantUnitOfWork(wide_pool, catalogue.tenant) as conn:
            await ready.wait()
            return await book(conn, catalogue.tenant, request, TZ, idempotency_key="k-3")

    results = await asyncio.gather(*(retry() for _ in range(10)))
    assert len({booking.id for booking in results}) == 1
    assert len(await bookings_of(db, catalogue.tenant)) == 1


async def test_old_keys_are_purged_and_can_then_be_used_again(
    db: asyncpg.Pool, catalogue: Catalogue, make_customers: MakeCustomers,
) -> None:
    first, second = await make_customers(catalogue.tenant, 2)
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        await book(conn, catalogue.tenant, catalogue.cleaning_at(first), TZ, idempotency_key="old")
        await book(conn, catalogue.tenant, catalogue.cleaning_at(first, "10:00"), TZ,
                   idempotency_key="new")
        await conn.execute("UPDATE idempotency_records SET created_at = now() - interval '2 days' "
                           "WHERE key = 'old'")
        assert await purge_idempotency_records(conn, older_than_hours=24) == 1
        again = await book(conn, catalogue.tenant, catalogue.cleaning_at(second, "11:00"), TZ,
                           idempotency_key="old")
    assert again.customer_id == second
