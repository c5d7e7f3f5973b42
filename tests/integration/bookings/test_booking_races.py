"""Parallel requests for one slot, each on its own pooled connection and transaction: exactly
as many win as the resource has places, and the others are told the slot is taken."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from simptu.runtime.core.bookings import (
    Booking,
    BookingError,
    BookingRequest,
    RescheduleRequest,
    SlotTaken,
    book,
    reschedule,
)
from simptu.runtime.core.database import TenantUnitOfWork, act_as_tenant

from .conftest import TZ, Catalogue, MakeCustomers, bookings_of, local, outbox_events

PARALLEL = 20
Attempt = Callable[[asyncpg.Connection], Awaitable[Booking]]


async def race(pool: asyncpg.Pool, catalogue: Catalogue,
               attempts: list[Attempt]) -> list[Booking | BookingError]:
    """Run every attempt at once, each in its own unit of work; a start barrier makes them all
    hold a connection and an open transaction before any of them books."""
    ready = asyncio.Barrier(len(attempts))

    async def one(attempt: Attempt) -> Booking:
        async with TenantUnitOfWork(pool, catalogue.tenant) as conn:
            await ready.wait()
            return await attempt(conn)

    results = await asyncio.gather(*(one(a) for a in attempts), return_exceptions=True)
    for result in results:
        if not isinstance(result, Booking | BookingError):
            raise result
    return results  # type: ignore[return-value]  # only bookings and booking errors are left


def winners(results: list[Booking | BookingError]) -> list[Booking]:
    return [result for result in results if isinstance(result, Booking)]


async def test_twenty_parallel_requests_for_one_slot_make_exactly_one_booking(
    wide_pool: asyncpg.Pool, db: asyncpg.Pool, catalogue: Catalogue,
    make_customers: MakeCustomers,
) -> None:
    customers = await make_customers(catalogue.tenant, PARALLEL)

    def attempt(customer: uuid.UUID) -> Attempt:
        return lambda conn: book(conn, catalogue.tenant, catalogue.cleaning_at(customer), TZ)

    results = await race(wide_pool, catalogue, [attempt(c) for c in customers])
    assert len(winners(results)) == 1
    assert all(isinstance(r, SlotTaken) for r in results if not isinstance(r, Booking))
    assert len(await bookings_of(db, catalogue.tenant)) == 1
    assert len(await outbox_events(db, catalogue.tenant)) == 1


async def test_a_class_takes_exactly_its_capacity_under_parallel_load(
    wide_pool: asyncpg.Pool, db: asyncpg.Pool, catalogue: Catalogue,
    make_customers: MakeCustomers,
) -> None:
    customers = await make_customers(catalogue.tenant, PARALLEL)

    def attempt(customer: uuid.UUID) -> Attempt:
        return lambda conn: book(conn, catalogue.tenant, BookingRequest(
            service_id=catalogue.yoga, resource_id=catalogue.yoga_class, customer_id=customer,
            start=local(catalogue.monday, "18:00")), TZ)

    results = await race(wide_pool, catalogue, [attempt(c) for c in customers])
    assert len(winners(results)) == 3
    assert sum(isinstance(r, SlotTaken) for r in results) == PARALLEL - 3
    assert {r["customer_id"] for r in await bookings_of(db, catalogue.tenant)} == {
        w.customer_id for w in winners(results)}


async def test_parallel_reschedules_onto_one_free_slot_move_exactly_one_booking(
    wide_pool: asyncpg.Pool, db: asyncpg.Pool, catalogue: Catalogue,
    make_customers: MakeCustomers,
) -> None:
    """Two consultations (Dr Ana and Dr Mihai) race for Dr Ana's 11:00."""
    first, second = await make_customers(catalogue.tenant, 2)
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        booked = [await book(conn, catalogue.tenant, BookingRequest(
            service_id=catalogue.consultation, resource_id=resource, customer_id=customer,
            start=local(catalogue.monday, "09:00")), TZ)
            for resource, customer in ((catalogue.dr_ana, first), (catalogue.dr_mihai, second))]

    def attempt(booking: Booking) -> Attempt:
        return lambda conn: reschedule(conn, catalogue.tenant, RescheduleRequest(
            booking_id=booking.id, resource_id=catalogue.dr_ana,
            start=local(catalogue.monday, "11:00")), TZ)

    results = await race(wide_pool, catalogue, [attempt(b) for b in booked])
    assert len(winners(results)) == 1
    rows = await bookings_of(db, catalogue.tenant)
    at_eleven = [r for r in rows if r["start_at"] == local(catalogue.monday, "11:00")]
    assert len(at_eleven) == 1


async def test_booking_refuses_a_snapshot_transaction_that_could_oversell(
    db: asyncpg.Pool, catalogue: Catalogue, customer: uuid.UUID,
) -> None:
    async with db.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        await act_as_tenant(conn, catalogue.tenant)
        with pytest.raises(RuntimeError, match="read committed"):
            await book(conn, catalogue.tenant, catalogue.cleaning_at(customer), TZ)
