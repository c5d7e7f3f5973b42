"""PgBouncer and a rotated agent login, round after round (an earlier attempt saw "SASL
authentication failed" through PgBouncer right after a new password was delivered: a pooler
keeps a user's SCRAM keys and server connections). A rotation here never changes a password: it
makes a login of a new name, so each round the new login works through PgBouncer at once while
the old one's client is still busy, and once retired the old one is refused everywhere."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import pytest

from simptu.devstack.envfile import StackEnv
from simptu.operator import database_login
from simptu.runtime.core.migrations import migrate_tenant
from simptu.runtime.core.schemas import drop_tenant_schema, ensure_tenant_schema
from simptu.runtime.core.tenancy import TenantNames

ROUNDS = 12


@pytest.fixture
async def tenant(db: asyncpg.Pool, unique: str) -> AsyncIterator[TenantNames]:
    names = TenantNames(f"{unique}-pgb")
    async with db.acquire() as conn:
        await ensure_tenant_schema(conn, names)
        await migrate_tenant(conn, names)
    yield names
    await database_login.remove(db, names)
    async with db.acquire() as conn:
        await drop_tenant_schema(conn, names)


def _pooler(stack: StackEnv) -> str:
    """The pooler's URL without credentials (a login's are put in by AgentLogin.url)."""
    parts = urlsplit(stack["SIMPTU_POOLER_DATABASE_URL"])
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url, statement_cache_size=0, timeout=20)


async def _busy(conn: asyncpg.Connection, schema: str) -> None:
    for _ in range(20):
        await conn.fetchval(f"SELECT count(*) FROM {schema}.chat_sessions")


async def test_each_rotated_login_works_through_pgbouncer_at_once_and_the_old_is_refused(
        db: asyncpg.Pool, stack: StackEnv, tenant: TenantNames) -> None:
    pooler = _pooler(stack)
    current = await database_login.create(db, tenant, rotation="0")
    for round_ in range(1, ROUNDS + 1):
        old = await _connect(current.url(pooler))
        busy = asyncio.create_task(_busy(old, tenant.schema))
        new = await database_login.create(db, tenant, rotation=str(round_))
        conn = await _connect(new.url(pooler))  # right after it was made
        assert await conn.fetchval("SELECT current_user") == new.login
        await busy
        await old.close()
        assert await database_login.retire(db, tenant, keep={new.login}) == [current.login]
        assert await conn.fetchval(
            f"SELECT count(*) FROM {tenant.schema}.chat_sessions") == 0
        await conn.close()
        assert await database_login.refusal(current, stack.database_url) is not None
        with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.ProtocolViolationError)):
            await (await _connect(current.url(pooler))).close()
        current = new
