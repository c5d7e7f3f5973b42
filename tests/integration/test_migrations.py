"""Tenant migrations: versioned, recorded per schema, idempotent, safe to run concurrently."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core import migrations
from simptu.runtime.core.migrations import Migration, MigrationError, migrate_tenant
from simptu.runtime.core.schemas import drop_tenant_schema, ensure_tenant_schema
from simptu.runtime.core.tenancy import TenantNames

MakeTenant = Callable[..., Awaitable[TenantNames]]


async def test_every_migration_is_recorded_once(db: asyncpg.Pool, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    async with db.acquire() as conn:
        assert await migrate_tenant(conn, tenant) == []  # make_tenant already migrated it
        rows = await conn.fetch(f"SELECT version, name FROM {tenant.schema}.schema_migrations "
                                "ORDER BY version")
    assert [(r["version"], r["name"]) for r in rows] == [
        (m.version, m.name) for m in migrations.load("tenant")]


async def test_tables_belong_to_the_tenant_role(db: asyncpg.Pool, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    owners = await db.fetch("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = $1",
                            tenant.schema)
    assert [r["tableowner"] for r in owners] == [tenant.role]


async def test_concurrent_runs_apply_each_migration_once(db: asyncpg.Pool,
                                                         make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    async with db.acquire() as conn:  # a freshly provisioned, empty schema
        await drop_tenant_schema(conn, tenant)
        await ensure_tenant_schema(conn, tenant)

    async def run() -> list[Migration]:
        async with db.acquire() as conn:
            return await migrate_tenant(conn, tenant)

    results = await asyncio.gather(*(run() for _ in range(5)))
    applied = [m.version for result in results for m in result]
    assert sorted(applied) == [m.version for m in migrations.load("tenant")]


async def test_an_edited_migration_is_refused(db: asyncpg.Pool, make_tenant: MakeTenant,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = await make_tenant()
    original = migrations.load("tenant")
    edited = [Migration(m.version, m.name, m.sql + "\n-- edited") for m in original]
    monkeypatch.setattr(migrations, "load", lambda kind: edited)
    async with db.acquire() as conn:
        with pytest.raises(MigrationError, match="was edited after it was applied"):
            await migrate_tenant(conn, tenant)


async def test_a_failing_migration_names_itself_and_changes_nothing(
    db: asyncpg.Pool, make_tenant: MakeTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await make_tenant()
    broken = Migration(9999, "broken", "CREATE TABLE half_done (id int); SELECT 1/0;")
    original = migrations.load("tenant")
    monkeypatch.setattr(migrations, "load", lambda kind: [*original, broken])
    async with db.acquire() as conn:
        with pytest.raises(MigrationError, match="9999_broken failed: division by zero"):
            await migrate_tenant(conn, tenant)
        assert await conn.fetchval("SELECT to_regclass($1)", f"{tenant.schema}.half_done") is None


def test_migration_files_are_named_and_numbered_uniquely(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tenant").mkdir()
    (tmp_path / "tenant" / "0001_first.sql").write_text("SELECT 1;")
    (tmp_path / "tenant" / "0001_again.sql").write_text("SELECT 1;")
    monkeypatch.setattr(migrations, "HERE", tmp_path)
    with pytest.raises(MigrationError, match="share a version"):
        migrations.load("tenant")
    (tmp_path / "tenant" / "0001_again.sql").rename(tmp_path / "tenant" / "2-bad name.sql")
    with pytest.raises(MigrationError, match=r"0001_what_it_does\.sql"):
        migrations.load("tenant")


async def test_simptu_migrate_upgrades_every_tenant_with_progress(
    stack: StackEnv, db: asyncpg.Pool, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    async with db.acquire() as conn:
        # CASCADE: later migrations reference customers (bookings.customer_id).
        await conn.execute(f"DROP TABLE {tenant.schema}.customers CASCADE")
        await conn.execute(f"DELETE FROM {tenant.schema}.schema_migrations WHERE version = 1")
    env = {**stack.values, "PATH": "/usr/bin:/bin"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simptu.runtime", "migrate", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    # Other tests' tenants share this registry and may be mid-deletion: only ours is judged.
    assert f"tenant {tenant.slug}:" not in err.decode()
    assert proc.returncode == 0 or "error: tenant " in err.decode(), err.decode()
    assert f"{tenant.schema}: 0001_customers" in out.decode()
    assert await db.fetchval("SELECT to_regclass($1)", f"{tenant.schema}.customers") is not None


async def test_one_broken_tenant_is_reported_and_the_others_still_upgrade(
    db: asyncpg.Pool, make_tenant: MakeTenant
) -> None:
    broken, healthy = await make_tenant("broken"), await make_tenant("healthy")
    async with db.acquire() as conn:
        await drop_tenant_schema(conn, broken)  # registered, but its role and schema are gone
        await conn.execute(f"DELETE FROM {healthy.schema}.schema_migrations WHERE version = 1")
        await conn.execute(f"DROP TABLE {healthy.schema}.customers CASCADE")
    report = await migrations.migrate_all_tenants(db)
    assert "does not exist" in report.failed[broken.slug]
    assert healthy.slug not in report.failed
    assert await db.fetchval("SELECT to_regclass($1)", f"{healthy.schema}.customers") is not None
