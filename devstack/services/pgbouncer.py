"""PgBouncer in transaction mode in front of PostgreSQL, as production deployments run it, so
tests can show that nothing session-level leaks from one request to the next. The platform's
role is in its user file; each tenant agent's own login is looked up with `auth_query`."""

from __future__ import annotations

import shutil

import asyncpg

from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, Service
from simptu.devstack.services.postgres import DATABASE, SUPERUSER, run_as

# A constant query (PgBouncer binds the login's name to $1).
AUTH_QUERY = "SELECT usename, passwd FROM platform.agent_login_secret($1)"


class PgBouncer(Service):
    name = "pgbouncer"
    needs = ("postgres",)

    def url(self, ctx: Context) -> str:
        s = ctx.settings
        password = ctx.secret("postgres_password")
        return f"postgresql://{SUPERUSER}:{password}@{s.host}:{s.pgbouncer_port}/{DATABASE}"

    def prepare(self, ctx: Context) -> None:
        home = ctx.folder(self.name)
        s = ctx.settings
        users = home / "users.txt"
        users.write_text(f'"{SUPERUSER}" "{ctx.secret("postgres_password")}"\n')
        (home / "pgbouncer.ini").write_text(f"""\
[databases]
{DATABASE} = host={s.host} port={s.postgres_port} dbname={DATABASE}

[pgbouncer]
listen_addr = {s.host}
listen_port = {s.pgbouncer_port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {users}
; Tenants' agent logins (operator/database_login.py) are not in the file: their SCRAM verifiers
; come from Postgres through a function that returns agents' logins only (platform migration 5).
auth_user = {SUPERUSER}
auth_query = {AUTH_QUERY}
pool_mode = transaction
default_pool_size = 4
max_client_conn = 400
server_reset_query =
server_login_retry = 1
query_wait_timeout = 5
ignore_startup_parameters = extra_float_digits
""")
        user = run_as()
        for path in (home, users, home / "pgbouncer.ini"):
            path.chmod(0o700 if path.is_dir() else 0o600)
            if user:
                shutil.chown(path, user, user)

    def launch(self, ctx: Context) -> Launch:
        # Like PostgreSQL, PgBouncer refuses to run as root.
        return Launch(argv=["/usr/sbin/pgbouncer", str(ctx.folder(self.name) / "pgbouncer.ini")],
                      user=run_as())

    async def probe(self, ctx: Context) -> None:
        conn = await asyncpg.connect(self.url(ctx), statement_cache_size=0, timeout=5)
        try:
            await conn.fetchval("SELECT 1")
        finally:
            await conn.close()

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_POOLER_DATABASE_URL": self.url(ctx)}

    def endpoint(self, ctx: Context) -> str:
        return f"{ctx.settings.host}:{ctx.settings.pgbouncer_port}"
