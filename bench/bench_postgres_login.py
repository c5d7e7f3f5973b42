"""What a tenant's own Postgres login adds to its provisioning, against the running local stack
(`make up`); prints a markdown table.

    .venv/bin/python bench/bench_postgres_login.py [--runs N]

Each run is a new tenant's share of the operator's DatabaseReady step: `database_login.ensure`
(its Secret looked up, a login made with a SCRAM verifier, a real login to Postgres as it), and
the Secret `agent-postgres` applied server-side in its namespace. A rotation (a second login,
the Secret applied again) and the retirement of the replaced login are timed the same way. The
schema and namespace are made beforehand and removed afterwards (neither is timed).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import asyncpg
from kubernetes import config as k8s_config
from provisioning_table import Timings, run  # a script beside this one: bench/ is on sys.path

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.operator import database_login
from simptu.operator.kube_objects import KubeObjects
from simptu.runtime.core.migrations import migrate_platform
from simptu.runtime.core.schemas import drop_tenant_schema, ensure_tenant_schema
from simptu.runtime.core.tenancy import TenantNames

ENV = StackEnv.load(DevstackSettings().env_file)


def _secret(tenant: TenantNames, login: database_login.AgentLogin) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": database_login.SECRET, "namespace": tenant.namespace,
                         "annotations": login.secret_annotations()},
            "stringData": login.secret_data(ENV.database_url)}


def _namespace(tenant: TenantNames) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": tenant.namespace}}


async def _provision(pool: asyncpg.Pool, objects: KubeObjects, tenant: TenantNames,
                     rotation: str) -> tuple[float, database_login.AgentLogin]:
    started = time.perf_counter()
    login, refused = await database_login.ensure(pool, objects, tenant,
                                                 database_url=ENV.database_url,
                                                 rotation=rotation)
    await objects.apply([_secret(tenant, login)])
    elapsed = time.perf_counter() - started
    assert refused is None, refused
    return elapsed, login


async def _run(pool: asyncpg.Pool, objects: KubeObjects,
               timings: Timings) -> None:
    tenant = TenantNames(f"bench-pg-{uuid.uuid4().hex[:8]}")
    async with pool.acquire() as conn:
        await ensure_tenant_schema(conn, tenant)
    await objects.apply([_namespace(tenant)])
    try:
        elapsed, _ = await _provision(pool, objects, tenant, "")
        timings["new tenant"].append(elapsed)
        elapsed, login = await _provision(pool, objects, tenant, "1")
        timings["rotation"].append(elapsed)
        started = time.perf_counter()
        assert len(await database_login.retire(pool, tenant, keep={login.login})) == 1
        timings["old login retired"].append(time.perf_counter() - started)
    finally:
        await database_login.remove(pool, tenant)
        async with pool.acquire() as conn:
            await drop_tenant_schema(conn, tenant)
        await objects.delete([_namespace(tenant)])


async def measure(runs: int) -> Timings:
    pool = await asyncpg.create_pool(ENV.database_url, min_size=1, max_size=2)
    assert pool is not None
    async with pool.acquire() as conn:
        await migrate_platform(conn)
    objects = await KubeObjects.connect(k8s_config.new_client_from_config(ENV.kubeconfig))
    timings: Timings = {"new tenant": [], "rotation": [],
                                       "old login retired": []}
    try:
        for _ in range(runs):
            await _run(pool, objects, timings)
    finally:
        await pool.close()
    return timings


if __name__ == "__main__":
    run(__doc__, "Postgres logins", measure)
