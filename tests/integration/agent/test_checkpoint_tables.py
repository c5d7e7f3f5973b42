"""The agent's checkpoint tables are created by tenant migration 0009, not by LangGraph's
saver (the agent has no DDL rights): they must stay what the installed
langgraph-checkpoint-postgres would create, and record every migration it knows as applied,
or the saver would read and write columns that are not there. This fails when an upgrade of
the library brings a migration the tenant migrations lack."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.postgres.base import BasePostgresSaver
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.tenancy import TenantNames

MakeTenant = Callable[..., Awaitable[TenantNames]]
TABLES = ("checkpoint_migrations", "checkpoints", "checkpoint_blobs", "checkpoint_writes")


async def describe(conn: asyncpg.Connection, schema: str) -> dict[str, Any]:
    """The checkpoint tables of `schema` as the catalog has them: columns in order, their types,
    nullability and defaults, constraints, indexes, and the migration versions recorded."""
    columns = await conn.fetch(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type, "
        "a.attnotnull, pg_get_expr(d.adbin, d.adrelid) AS default_value "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum "
        "WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname LIKE 'checkpoint%' "
        "ORDER BY c.relname, a.attnum", schema)
    constraints = await conn.fetch(
        "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) AS definition "
        "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE n.nspname = $1 AND t.relname LIKE 'checkpoint%' ORDER BY 1, 2", schema)
    indexes = await conn.fetch(
        "SELECT tablename, indexname, replace(indexdef, $1 || '.', '') AS definition "
        "FROM pg_indexes WHERE schemaname = $1 AND tablename LIKE 'checkpoint%' ORDER BY 1, 2",
        schema)
    versions = await conn.fetch(f'SELECT v FROM "{schema}".checkpoint_migrations ORDER BY v')
    return {"columns": [tuple(row) for row in columns],
            "constraints": [tuple(row) for row in constraints],
            "indexes": [tuple(row) for row in indexes],
            "versions": [row["v"] for row in versions]}


async def library_tables(stack: StackEnv, schema: str) -> None:
    """What the installed saver's own setup() creates, in the empty `schema`."""
    async with await AsyncConnection.connect(
            stack.database_url, autocommit=True, row_factory=dict_row,
            options=f"-c search_path={schema}") as conn:
        await AsyncPostgresSaver(conn).setup()


async def test_the_tenant_migration_creates_what_the_installed_saver_would(
        stack: StackEnv, db: asyncpg.Pool, make_tenant: MakeTenant, schema: str) -> None:
    tenant = await make_tenant()
    await library_tables(stack, schema)
    async with db.acquire() as conn:
        ours, theirs = await describe(conn, tenant.schema), await describe(conn, schema)
    assert {row[0] for row in ours["columns"]} == set(TABLES)
    assert ours["columns"] == theirs["columns"]
    assert ours["constraints"] == theirs["constraints"]
    assert ours["indexes"] == theirs["indexes"]
    # Every migration the saver knows is recorded: its setup() would have nothing to do.
    assert ours["versions"] == theirs["versions"] == list(range(len(BasePostgresSaver.MIGRATIONS)))


async def test_a_migration_the_tenant_tables_lack_is_noticed(
        stack: StackEnv, db: asyncpg.Pool, make_tenant: MakeTenant, schema: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = await make_tenant()
    monkeypatch.setattr(BasePostgresSaver, "MIGRATIONS", [
        *BasePostgresSaver.MIGRATIONS,
        "ALTER TABLE checkpoint_writes ADD COLUMN IF NOT EXISTS task_kind TEXT"])
    await library_tables(stack, schema)
    async with db.acquire() as conn:
        ours, theirs = await describe(conn, tenant.schema), await describe(conn, schema)
    assert ("checkpoint_writes", "task_kind", "text", False, None) in theirs["columns"]
    assert ours["columns"] != theirs["columns"]
    assert ours["versions"] == theirs["versions"][:-1]
