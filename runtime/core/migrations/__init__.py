"""Versioned SQL migrations: `platform/` for the shared registry, `tenant/` for every tenant schema.

Files are named `<version>_<name>.sql` and applied in version order, each in its own
transaction, recorded with a checksum in the schema's `schema_migrations` table. A
transaction-level advisory lock per schema makes concurrent runs safe: the second waits, then
finds nothing left to do. Tenant migrations run as the tenant's role, so what they create is
owned by the tenant and lives in its schema.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from simptu.runtime.core.database import act_as_tenant, quote_ident
from simptu.runtime.core.tenancy import TenantNames

HERE = Path(__file__).resolve().parent
FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
PLATFORM_SCHEMA = "platform"


class MigrationError(RuntimeError):
    """A migration failed or an applied one was edited; the message names schema and file."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load(kind: str) -> list[Migration]:
    """The migrations of `platform` or `tenant`, in version order."""
    found = []
    for path in sorted((HERE / kind).glob("*.sql")):
        match = FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named 0001_what_it_does.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{kind}: two migrations share a version number")
    return found


async def _apply(conn: asyncpg.Connection, schema: str, migrations: list[Migration],
                 tenant: TenantNames | None) -> list[Migration]:
    """Apply what `schema` lacks (as `tenant`, if given); returns the migrations applied now."""
    applied_now = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"migrate:{schema}")
        if tenant:
            await act_as_tenant(conn, tenant)
        else:
            ident = quote_ident(schema)
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {ident}")
            await conn.execute(f"SET LOCAL search_path TO {ident}")
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, "
            "name text NOT NULL, checksum text NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())")
        done = {row["version"]: row["checksum"]
                for row in await conn.fetch("SELECT version, checksum FROM schema_migrations")}
        for migration in migrations:
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"{schema}: migration {migration.version}_{migration.name} was edited "
                        "after it was applied; add a new migration instead")
                continue
            try:
                await conn.execute(migration.sql)
            except asyncpg.PostgresError as error:
                raise MigrationError(
                    f"{schema}: {migration.version}_{migration.name} failed: {error}") from error
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                migration.version, migration.name, migration.checksum)
            applied_now.append(migration)
    return applied_now


async def migrate_platform(conn: asyncpg.Connection) -> list[Migration]:
    """Bring the `platform` schema (the routing registry) up to date."""
    return await _apply(conn, PLATFORM_SCHEMA, load("platform"), tenant=None)


async def migrate_tenant(conn: asyncpg.Connection, tenant: TenantNames) -> list[Migration]:
    """Bring one tenant's schema up to date (the schema and role must exist)."""
    return await _apply(conn, tenant.schema, load("tenant"), tenant=tenant)


async def _still_registered(conn: asyncpg.Connection, slug: str) -> bool:
    found = await conn.fetchval("SELECT 1 FROM platform.tenants WHERE slug = $1", slug)
    return bool(found)


Progress = Callable[[int, int, TenantNames, list[Migration]], None]


@dataclass
class UpgradeReport:
    applied: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # slug -> why


async def migrate_all_tenants(pool: asyncpg.Pool,
                              progress: Progress | None = None) -> UpgradeReport:
    """Upgrade every tenant in the registry. One broken tenant does not stop the others: its
    failure is reported, and the caller decides the exit status."""
    async with pool.acquire() as conn:
        slugs = [row["slug"] for row in await conn.fetch(
            "SELECT slug FROM platform.tenants WHERE status <> 'Shredded' ORDER BY slug")]
    report = UpgradeReport()
    for done, slug in enumerate(slugs, start=1):
        tenant = TenantNames(slug)
        applied: list[Migration] = []
        async with pool.acquire() as conn:
            try:
                applied = await migrate_tenant(conn, tenant)
            except (MigrationError, asyncpg.PostgresError) as error:
                if await _still_registered(conn, slug):  # else removed meanwhile: nothing to do
                    report.failed[slug] = str(error)
        report.applied += len(applied)
        if progress:
            progress(done, len(slugs), tenant, applied)
    return report
