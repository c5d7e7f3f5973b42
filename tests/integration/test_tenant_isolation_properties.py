"""Property: whatever a tenant's unit of work runs, it never reads or writes another tenant's rows.

Hypothesis generates sequences of operations by two tenants, each naming its own table, the
other tenant's table (fully qualified), or none; a model of the rows each tenant should have
is checked against what the database holds after every step.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

MakeTenant = Callable[..., Awaitable[TenantNames]]

operations = st.lists(
    st.tuples(st.sampled_from([0, 1]),                         # who acts
              st.sampled_from(["insert", "select", "update", "delete"]),
              st.sampled_from(["own", "other", "unqualified"])),  # which table it names
    min_size=1, max_size=12)


@pytest.fixture
async def two_tenants(make_tenant: MakeTenant) -> tuple[TenantNames, TenantNames]:
    return await make_tenant("a"), await make_tenant("b")


def _table(target: str, me: TenantNames, other: TenantNames) -> str:
    return {"own": f"{me.schema}.customers", "other": f"{other.schema}.customers",
            "unqualified": "customers"}[target]


async def _run(conn: asyncpg.Connection, op: str, table: str, row: uuid.UUID) -> int:
    if op == "insert":
        await conn.execute(f"INSERT INTO {table} (id, locale) VALUES ($1, 'ro')", row)
        return 1
    if op == "select":
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    if op == "update":
        return int((await conn.execute(f"UPDATE {table} SET locale = 'en'")).split()[-1])
    return int((await conn.execute(f"DELETE FROM {table}")).split()[-1])


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
async def test_no_sequence_of_operations_crosses_tenants(
    db: asyncpg.Pool, two_tenants: tuple[TenantNames, TenantNames],
    steps: list[tuple[int, str, str]],
) -> None:
    tenants = list(two_tenants)
    for tenant in tenants:
        async with db.acquire() as conn:
            # CASCADE: bookings refer to customers.
            await conn.execute(f"TRUNCATE {tenant.schema}.customers CASCADE")
    expected = [0, 0]
    for who, op, target in steps:
        me, other = tenants[who], tenants[1 - who]
        table = _table(target, me, other)
        if target == "other":
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with TenantUnitOfWork(db, me) as conn:
                    await _run(conn, op, table, uuid.uuid4())
        else:
            async with TenantUnitOfWork(db, me) as conn:
                affected = await _run(conn, op, table, uuid.uuid4())
            if op == "insert":
                expected[who] += 1
            elif op == "delete":
                expected[who] = 0
            else:
                assert affected == expected[who]  # it saw exactly its own rows
        for index, tenant in enumerate(tenants):
            async with db.acquire() as conn:
                count = await conn.fetchval(f"SELECT count(*) FROM {tenant.schema}.customers")
            assert count == expected[index]
