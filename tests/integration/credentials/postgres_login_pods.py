"""What the Postgres login tests share: the script run inside a tenant's agent pod (its own
environment, so its own `agent-postgres` Secret) that tries what its login may and may not do,
and the login a tenant's Secret holds."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv
from simptu.operator import database_login
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.credentials.redis_acl_pods import run_in_pod, tenant_secret

# argv: the pooler's host:port, the tenant's schema, the other tenant's schema and role.
# Prints, as JSON, what each attempt gave: a value, or the Postgres error's class name.
PROBE = r"""
import asyncio, json, os, sys
from urllib.parse import urlsplit, urlunsplit
import asyncpg

pooler, own, other_schema, other_role = sys.argv[1:5]
direct = os.environ["SIMPTU_DATABASE_URL"]
parts = urlsplit(direct)
through_pooler = urlunsplit(parts._replace(
    netloc=parts.netloc.rsplit("@", 1)[0] + "@" + pooler))

async def attempt(url, sql, cache, first=None):
    try:
        conn = await asyncpg.connect(url, statement_cache_size=cache, timeout=20)
    except (asyncpg.PostgresError, OSError) as error:
        return type(error).__name__
    try:
        async with conn.transaction():
            if first:
                await conn.execute(first)
            return str(await conn.fetchval(sql))
    except asyncpg.PostgresError as error:
        return type(error).__name__
    finally:
        await conn.close()

async def main():
    own_table = f"SELECT count(*) FROM {own}.chat_sessions"
    other_table = f"SELECT count(*) FROM {other_schema}.chat_sessions"
    found = {
        "direct": await attempt(direct, own_table, 100),
        "pooler": await attempt(through_pooler, own_table, 0),
        "as_tenant": await attempt(direct, "SELECT current_user", 100,
                                   first=f"SET LOCAL ROLE {own}"),
        "other_schema": await attempt(direct, other_table, 100),
        "other_role": await attempt(direct, f"SET ROLE {other_role}", 100),
        "other_via_pooler": await attempt(through_pooler, other_table, 0),
        "registry": await attempt(direct, "SELECT string_agg(slug, ',') FROM platform.tenants",
                                  100),
        "channels": await attempt(direct, "SELECT count(*) FROM platform.tenant_channels", 100),
        "faults": await attempt(direct, "SELECT count(*) FROM platform.channel_faults", 100),
        "pooler_lookup": await attempt(
            direct, "SELECT count(*) FROM platform.agent_login_secret('simptu')", 100),
        "registry_write": await attempt(
            direct, "UPDATE platform.tenants SET display_name = 'x' RETURNING slug", 100),
        "user": await attempt(direct, "SELECT current_user", 100),
    }
    print(json.dumps(found))

asyncio.run(main())
"""


def probe(stack: StackEnv, pod: k8s.V1Pod, own: TenantNames, other: TenantNames) -> Any:
    pooler = urlsplit(stack["SIMPTU_POOLER_DATABASE_URL"]).netloc.rsplit("@", 1)[1]
    return run_in_pod(stack, pod, PROBE, pooler, own.schema, other.schema, other.role)


def delivered_login(kube: k8s.ApiClient, slug: str) -> tuple[str, str] | None:
    """(login, password) of the tenant's Secret, or None without one."""
    values = tenant_secret(kube, slug, database_login.SECRET)
    return None if values is None else (values["PGUSER"], values["PGPASSWORD"])
