"""Work registered with `after_commit` runs once the unit of work has committed (another
connection already sees what it wrote), never when it rolls back, and a failing piece of it
neither undoes the commit nor keeps the rest from running."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from simptu.runtime.core.database import TenantUnitOfWork, after_commit
from simptu.runtime.core.tenancy import TenantNames

CLINIC = TenantNames("zambet-dental-cluj")  # a demo tenant `make up` provisions


async def _sessions_with(db: asyncpg.Pool, session_id: uuid.UUID) -> int:
    async with TenantUnitOfWork(db, CLINIC) as conn:
        return int(await conn.fetchval("SELECT count(*) FROM chat_sessions WHERE id = $1",
                                       session_id))


async def _add_session(conn: asyncpg.Connection, session_id: uuid.UUID) -> None:
    await conn.execute("INSERT INTO chat_sessions (id, channel, locale) VALUES ($1, 'web', 'ro')",
                       session_id)


async def test_work_runs_after_the_commit_and_sees_it_from_another_connection(
        db: asyncpg.Pool) -> None:
    session_id, seen = uuid.uuid4(), []

    async def failing() -> None:
        raise RuntimeError("Redis is away")

    async def look() -> None:
        seen.append(await _sessions_with(db, session_id))

    try:
        async with TenantUnitOfWork(db, CLINIC) as conn:
            await _add_session(conn, session_id)
            after_commit(conn, failing)
            after_commit(conn, look)
            assert seen == []
        assert seen == [1]
    finally:
        async with TenantUnitOfWork(db, CLINIC) as conn:
            await conn.execute("DELETE FROM chat_sessions WHERE id = $1", session_id)


async def test_work_of_a_unit_of_work_that_rolls_back_never_runs(db: asyncpg.Pool) -> None:
    session_id, ran = uuid.uuid4(), []

    async def work() -> None:
        ran.append(True)

    with pytest.raises(ValueError, match="changed my mind"):
        async with TenantUnitOfWork(db, CLINIC) as conn:
            await _add_session(conn, session_id)
            after_commit(conn, work)
            raise ValueError("changed my mind")
    assert ran == []
    assert await _sessions_with(db, session_id) == 0


async def test_work_needs_a_unit_of_work(db: asyncpg.Pool) -> None:
    async def work() -> None:
        raise AssertionError("never runs")

    async with db.acquire() as conn:
        with pytest.raises(RuntimeError, match="TenantUnitOfWork"):
            after_commit(conn, work)
