"""The operator's Postgres step: schema, role and migrations ensured, checked and repaired."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from simptu.operator import postgres
from simptu.runtime.core.tenancy import TenantNames


@pytest.fixture
async def tenant(db: asyncpg.Pool, unique: str) -> AsyncIterator[TenantNames]:
    names = TenantNames(f"{unique}-gym")
    yield names
    await postgres.remove(db, names)


async def test_ensure_provisions_a_migrated_schema_owned_by_the_tenant_role(
    db: asyncpg.Pool, tenant: TenantNames
) -> None:
    assert await postgres.check(db, tenant) == f"role {tenant.role} is missing"
    version = await postgres.ensure(db, tenant)
    assert version >= 1
    assert await postgres.check(db, tenant) is None
    owner = await db.fetchval("SELECT nspowner::regrole::text FROM pg_namespace "
                              "WHERE nspname = $1", tenant.schema)
    assert owner == tenant.role
    assert await postgres.ensure(db, tenant) == version  # idempotent


async def test_a_dropped_schema_is_seen_and_recreated(db: asyncpg.Pool,
                                                      tenant: TenantNames) -> None:
    await postgres.ensure(db, tenant)
    await db.execute(f"DROP SCHEMA {tenant.schema} CASCADE")
    assert await postgres.check(db, tenant) == f"schema {tenant.schema} is missing"
    await postgres.ensure(db, tenant)
    assert await postgres.check(db, tenant) is None


async def test_remove_leaves_neither_schema_nor_role(db: asyncpg.Pool,
                                                     tenant: TenantNames) -> None:
    await postgres.ensure(db, tenant)
    await postgres.remove(db, tenant)
    await postgres.remove(db, tenant)
    assert await db.fetchval("SELECT count(*) FROM pg_roles WHERE rolname = $1", tenant.role) == 0
    assert await db.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname = $1",
                             tenant.schema) == 0
