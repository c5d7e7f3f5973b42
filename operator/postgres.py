"""A tenant's Postgres schema and role, with the tenant migrations applied."""

from __future__ import annotations

import asyncpg

from simptu.runtime.core import migrations, schemas
from simptu.runtime.core.tenancy import TenantNames


async def ensure(pool: asyncpg.Pool, tenant: TenantNames) -> int:
    """Create or repair schema and role, apply missing migrations; returns the schema version."""
    async with pool.acquire() as conn:
        await schemas.ensure_tenant_schema(conn, tenant)
        await migrations.migrate_tenant(conn, tenant)
        return await _version(conn, tenant)


async def check(pool: asyncpg.Pool, tenant: TenantNames) -> str | None:
    """None when schema, role and migrations are as they should be, else what is wrong."""
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", tenant.role):
            return f"role {tenant.role} is missing"
        if not await schemas.tenant_schema_exists(conn, tenant):
            return f"schema {tenant.schema} is missing"
        version = await _version(conn, tenant)
    latest = max((m.version for m in migrations.load("tenant")), default=0)
    if version < latest:
        return f"schema {tenant.schema} is at migration {version}, latest is {latest}"
    return None


async def remove(pool: asyncpg.Pool, tenant: TenantNames) -> None:
    async with pool.acquire() as conn:
        await schemas.drop_tenant_schema(conn, tenant)


async def _version(conn: asyncpg.Connection, tenant: TenantNames) -> int:
    table = f"{tenant.schema}.schema_migrations"
    if await conn.fetchval("SELECT to_regclass($1)", table) is None:
        return 0
    return int(await conn.fetchval(f"SELECT coalesce(max(version), 0) FROM {table}"))  # noqa: S608
