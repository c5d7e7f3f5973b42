"""PostgreSQL 15 from Debian: one cluster, the platform's database and Keycloak's."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import asyncpg

from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, Service
from simptu.devstack.toolchain.tools import POSTGRES_BIN

SUPERUSER = "simptu"
DATABASE = "simptu"
KEYCLOAK_DB = "keycloak"


def run_as() -> str | None:
    # PostgreSQL refuses to run as root; Debian's package creates the `postgres` user.
    return "postgres" if os.geteuid() == 0 else None


class Postgres(Service):
    name = "postgres"

    def data_dir(self, ctx: Context) -> Path:
        return ctx.folder(self.name) / "data"

    def socket_dir(self, ctx: Context) -> Path:
        return ctx.folder(self.name) / "run"

    def prepare(self, ctx: Context) -> None:
        home = ctx.folder(self.name)
        self.socket_dir(ctx).mkdir(exist_ok=True)
        user = run_as()
        if user:
            for path in (home, self.socket_dir(ctx)):
                shutil.chown(path, user, user)
        if (self.data_dir(ctx) / "PG_VERSION").exists():
            return
        pwfile = home / "initdb.pw"
        pwfile.write_text(ctx.secret("postgres_password"))
        if user:
            shutil.chown(pwfile, user, user)
        try:
            subprocess.run(
                [str(POSTGRES_BIN / "initdb"), "-D", str(self.data_dir(ctx)), "-U", SUPERUSER,
                 "--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8",
                 "--locale=C.UTF-8"],
                check=True, capture_output=True, user=user,
            )
        finally:
            pwfile.unlink()

    def launch(self, ctx: Context) -> Launch:
        s = ctx.settings
        settings = {
            "port": s.postgres_port, "listen_addresses": s.host,
            "unix_socket_directories": self.socket_dir(ctx), "max_connections": 300,
            # logical decoding lets tests read what reaches the WAL (no plaintext at rest).
            "wal_level": "logical", "max_wal_senders": 4, "max_replication_slots": 4,
            "shared_buffers": "128MB",
        }
        argv = [str(POSTGRES_BIN / "postgres"), "-D", str(self.data_dir(ctx))]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        return Launch(argv=argv, user=run_as())

    def url(self, ctx: Context, database: str = DATABASE) -> str:
        password = ctx.secret("postgres_password")
        return f"postgresql://{SUPERUSER}:{password}@{ctx.settings.host}:{ctx.settings.postgres_port}/{database}"

    async def probe(self, ctx: Context) -> None:
        conn = await asyncpg.connect(self.url(ctx, "postgres"), timeout=5)
        try:
            await conn.fetchval("SELECT 1")
        finally:
            await conn.close()

    async def configure(self, ctx: Context) -> None:
        conn = await asyncpg.connect(self.url(ctx, "postgres"), timeout=5)
        try:
            await _ensure_database(conn, DATABASE, SUPERUSER)
            kc_password = ctx.secret("keycloak_db_password")
            if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", KEYCLOAK_DB):
                await conn.execute(f"CREATE ROLE {KEYCLOAK_DB} LOGIN")
            # Passwords cannot be bind parameters in utility statements; quote them as literals.
            literal = await conn.fetchval("SELECT quote_literal($1)", kc_password)
            await conn.execute(f"ALTER ROLE {KEYCLOAK_DB} PASSWORD {literal}")
            await _ensure_database(conn, KEYCLOAK_DB, KEYCLOAK_DB)
        finally:
            await conn.close()

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_DATABASE_URL": self.url(ctx), "PGHOST": ctx.settings.host,
                "PGPORT": str(ctx.settings.postgres_port), "PGUSER": SUPERUSER,
                "PGPASSWORD": ctx.secret("postgres_password"), "PGDATABASE": DATABASE}

    def endpoint(self, ctx: Context) -> str:
        return f"{ctx.settings.host}:{ctx.settings.postgres_port}"


async def _ensure_database(conn: asyncpg.Connection, name: str, owner: str) -> None:
    if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
        await conn.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
