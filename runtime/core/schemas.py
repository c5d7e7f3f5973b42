"""Creating and removing a tenant's schema and role: the functions the operator calls.

The role `t_<slug>` cannot log in and owns only its schema. The platform's login role is made a
member of it so a unit of work can `SET ROLE` to it; with NOINHERIT on the login role that
membership grants nothing until the role is actually set.
"""

from __future__ import annotations

import asyncpg

from simptu.runtime.core.database import quote_ident
from simptu.runtime.core.tenancy import TenantNames


async def ensure_tenant_schema(conn: asyncpg.Connection, tenant: TenantNames) -> None:
    """Create the tenant's role and schema if missing; idempotent, safe to run concurrently."""
    role, schema = quote_ident(tenant.role), quote_ident(tenant.schema)
    async with conn.transaction():
        # Serialise concurrent provisioning of the same tenant (CREATE ROLE has no IF NOT EXISTS).
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"provision:{tenant.slug}")
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", tenant.role):
            await conn.execute(f"CREATE ROLE {role} NOLOGIN NOINHERIT")
        await conn.execute(f"GRANT {role} TO CURRENT_USER")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {role}")
        await conn.execute(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")


async def drop_tenant_schema(conn: asyncpg.Connection, tenant: TenantNames) -> None:
    """Drop the tenant's schema with all its data, and its role. Idempotent."""
    async with conn.transaction():
        await conn.execute(f"DROP SCHEMA IF EXISTS {quote_ident(tenant.schema)} CASCADE")
        if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", tenant.role):
            await conn.execute(f"DROP OWNED BY {quote_ident(tenant.role)}")
            await conn.execute(f"DROP ROLE {quote_ident(tenant.role)}")


async def tenant_schema_exists(conn: asyncpg.Connection, tenant: TenantNames) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM pg_namespace WHERE nspname = $1", tenant.schema)
    return bool(found)
