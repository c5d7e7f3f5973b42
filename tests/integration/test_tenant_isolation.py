"""A tenant's unit of work reaches its own schema and nothing else, and leaves nothing behind."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

MakeTenant = Callable[..., Awaitable[TenantNames]]
SESSION_STATE = "SELECT current_user AS who, current_setting('search_path') AS path"


async def test_a_tenant_reads_and_writes_its_own_tables(db: asyncpg.Pool,
                                                        make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    customer = uuid.uuid4()
    async with TenantUnitOfWork(db, tenant) as conn:
        await conn.execute("INSERT INTO customers (id, locale) VALUES ($1, 'ro')", customer)
    async with TenantUnitOfWork(db, tenant) as conn:
        assert await conn.fetchval("SELECT locale FROM customers WHERE id = $1", customer) == "ro"
        assert await conn.fetchval("SELECT current_user") == tenant.role


async def test_another_tenant_s_table_is_denied_even_fully_qualified(
    db: asyncpg.Pool, make_tenant: MakeTenant
) -> None:
    mine, theirs = await make_tenant("a"), await make_tenant("b")
    async with TenantUnitOfWork(db, theirs) as conn:
        await conn.execute("INSERT INTO customers (id) VALUES ($1)", uuid.uuid4())
    for sql in (f"SELECT count(*) FROM {theirs.schema}.customers",
                f"INSERT INTO {theirs.schema}.customers (id) VALUES (gen_random_uuid())",
                f"DELETE FROM {theirs.schema}.customers",
                "SELECT count(*) FROM platform.tenants"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with TenantUnitOfWork(db, mine) as conn:
                await conn.execute(sql)
    async with TenantUnitOfWork(db, theirs) as conn:
        assert await conn.fetchval("SELECT count(*) FROM customers") == 1


async def test_a_tenant_cannot_create_objects_outside_its_schema(
    db: asyncpg.Pool, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with TenantUnitOfWork(db, tenant) as conn:
            await conn.execute("CREATE TABLE public.leak (id int)")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with TenantUnitOfWork(db, tenant) as conn:
            await conn.execute("CREATE SCHEMA elsewhere")


async def test_nothing_session_level_is_left_on_the_connection(stack_pool_of_one: asyncpg.Pool,
                                                               make_tenant: MakeTenant) -> None:
    """With one pooled connection, the next user gets it exactly as it was before."""
    tenant = await make_tenant()
    async with stack_pool_of_one.acquire() as conn:
        before = await conn.fetchrow(SESSION_STATE)
    async with TenantUnitOfWork(stack_pool_of_one, tenant) as conn:
        await conn.fetchval("SELECT count(*) FROM customers")
    async with stack_pool_of_one.acquire() as conn:
        after = await conn.fetchrow(SESSION_STATE)
    assert dict(after) == dict(before)
    assert before["who"] != tenant.role


async def test_a_failing_unit_of_work_changes_nothing(db: asyncpg.Pool,
                                                      make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    with pytest.raises(RuntimeError, match="booking conflict"):
        async with TenantUnitOfWork(db, tenant) as conn:
            await conn.execute("INSERT INTO customers (id) VALUES ($1)", uuid.uuid4())
            raise RuntimeError("booking conflict")
    async with TenantUnitOfWork(db, tenant) as conn:
        assert await conn.fetchval("SELECT count(*) FROM customers") == 0
