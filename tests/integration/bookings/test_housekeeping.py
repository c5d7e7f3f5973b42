"""The periodic chores: ended bookings become completed (so they can be rated), old
Idempotency-Key and handled-event records go, and one process at a time does a round."""

from __future__ import annotations

import asyncio
import contextlib
import re

import asyncpg

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.bookings import Booking
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.housekeeping import LOCK, Round, housekeep, keep_house
from tests.conftest import run_simptu

from .conftest import Catalogue, bookings_of, outbox_events


async def _a_round(db: asyncpg.Pool) -> Round:
    """A round of our own (a running API replica may be doing one: wait for it)."""
    for _ in range(300):
        done = await housekeep(db)
        if done is not None:
            return done
        await asyncio.sleep(0.1)
    raise AssertionError("the housekeeping lock was not free within 30 s")


async def _has_ended(db: asyncpg.Pool, catalogue: Catalogue, booking: Booking) -> None:
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        await conn.execute("UPDATE bookings SET start_at = start_at - interval '30 days', "
                           "end_at = end_at - interval '30 days' WHERE id = $1", booking.id)


async def test_a_round_completes_ended_bookings_and_purges_old_idempotency_records(
        db: asyncpg.Pool, catalogue: Catalogue, nine_and_eleven: tuple[Booking, Booking]) -> None:
    ended, coming = nine_and_eleven
    await _has_ended(db, catalogue, ended)
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        await conn.execute(
            "INSERT INTO idempotency_records (key, operation, request_hash, created_at) VALUES "
            "('old', 'book', 'h', now() - interval '25 hours'), ('new', 'book', 'h', now())")
        await conn.execute(
            "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES "
            "('agent', 'old', now() - interval '8 days'), ('agent', 'new', now())")

    done = await _a_round(db)

    assert done.tenants >= 1
    assert done.completed >= 1
    assert done.purged >= 2
    statuses = {row["id"]: row["status"] for row in await bookings_of(db, catalogue.tenant)}
    assert (statuses[ended.id], statuses[coming.id]) == ("completed", "booked")
    assert (await outbox_events(db, catalogue.tenant))[-1].type == "io.simptu.booking.completed"
    async with TenantUnitOfWork(db, catalogue.tenant) as conn:
        assert await conn.fetchval("SELECT array_agg(key) FROM idempotency_records") == ["new"]
        assert await conn.fetchval("SELECT array_agg(event_id) FROM processed_events") == ["new"]
    await _a_round(db)  # a booking is completed once
    completions = [event for event in await outbox_events(db, catalogue.tenant)
                   if event.type == "io.simptu.booking.completed"]
    assert len(completions) == 1


async def test_the_loop_each_api_replica_runs_keeps_doing_rounds(
        db: asyncpg.Pool, catalogue: Catalogue, nine_and_eleven: tuple[Booking, Booking]) -> None:
    ended, _ = nine_and_eleven
    chores = asyncio.create_task(keep_house(db, interval=0.05))
    try:
        await _has_ended(db, catalogue, ended)
        for _ in range(600):
            statuses = {row["id"]: row["status"] for row in await bookings_of(db, catalogue.tenant)}
            if statuses[ended.id] == "completed":
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the ended booking was not completed within 30 s")
        assert not chores.done()  # it goes on after a round
    finally:
        chores.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await chores


async def test_a_round_is_skipped_while_another_process_does_one(db: asyncpg.Pool) -> None:
    async with db.acquire() as other:
        for _ in range(300):  # a running API replica may hold it for a moment
            if await other.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                                    LOCK):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the housekeeping lock was not free within 30 s")
        try:
            assert await housekeep(db) is None
        finally:
            await other.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", LOCK)


async def test_the_cli_runs_one_round(stack: StackEnv) -> None:
    for _ in range(30):  # a running API replica may be doing a round this moment
        code, out, err = await run_simptu(stack, "housekeep")
        if "another process is doing a round now" not in err:
            break
        await asyncio.sleep(1)
    assert code == 0, err
    assert re.fullmatch(r"\d+ tenant\(s\): \d+ booking\(s\) completed, "
                        r"\d+ idempotency record\(s\) purged\n", out)
