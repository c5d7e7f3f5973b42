"""The operator killed in the middle of provisioning and started again: the tenant becomes
Ready and nothing is created twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from simptu.devstack.envfile import StackEnv
from simptu.devstack.stack import Stack
from simptu.operator.keycloak import KeycloakAdmin
from simptu.runtime.core.events.topics import kafka_admin, tenant_topics
from simptu.runtime.core.tenancy import TenantNames

from .operator_process import OperatorProcess


@pytest.fixture
async def operator_process(local_stack: Stack, stack: StackEnv,
                           tmp_path: Path) -> AsyncIterator[OperatorProcess]:
    process = OperatorProcess(stack, tmp_path / "operator.log")
    yield process
    await process.kill()


async def _phase(tenants: Any, name: str) -> str | None:
    status = (await asyncio.to_thread(tenants.get, name)).get("status") or {}
    phase: str | None = status.get("phase")
    return phase


async def test_a_restarted_operator_finishes_without_duplicates(
    operator_process: OperatorProcess, tenants: Any, unique: str, db: asyncpg.Pool,
    stack: StackEnv,
) -> None:
    name = f"{unique}-restart"
    names = TenantNames(name)
    await operator_process.start()
    tenants.apply({"apiVersion": "simptu.io/v1alpha1", "kind": "Tenant",
                   "metadata": {"name": name},
                   "spec": {"displayName": "Restart", "businessType": "hotel",
                            "deletionPolicy": "Delete"}})
    # Kill as soon as provisioning has visibly started, long before it could finish.
    for _ in range(400):
        started = await db.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1",
                                    names.schema)
        if started:
            break
        await asyncio.sleep(0.01)
    await operator_process.kill()
    assert await _phase(tenants, name) != "Ready"

    await operator_process.start()
    for _ in range(180):
        if await _phase(tenants, name) == "Ready":
            break
        await asyncio.sleep(0.5)
    assert await _phase(tenants, name) == "Ready"

    keys = await db.fetch(f"SELECT purpose, version FROM {names.schema}.data_keys")
    assert sorted((k["purpose"], k["version"]) for k in keys) == [("data", 1), ("index", 1)]
    assert await db.fetchval("SELECT count(*) FROM platform.tenants WHERE slug = $1", name) == 1
    async with kafka_admin(stack.kafka) as admin:
        assert set(tenant_topics(names)) <= set(await admin.list_topics())
    admin_api = KeycloakAdmin.from_environment(stack.values)
    clients = (await admin_api.request("GET", f"/{name}/clients")).json()
    ours = [c["clientId"] for c in clients if c["clientId"].startswith("simptu-")]
    assert sorted(ours) == ["simptu-agent", "simptu-operator", "simptu-web"]
