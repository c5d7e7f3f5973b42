"""The operator killed in the middle of provisioning and started again: the tenant becomes
Ready and nothing is created twice. An operator started over Tenants an earlier release handled
takes that release's Kopf storage off them, and its own annotations then count at once."""

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


async def _until_phase(tenants: Any, name: str, phase: str, seconds: float) -> None:
    for _ in range(int(seconds * 2)):
        if await _phase(tenants, name) == phase:
            return
        await asyncio.sleep(0.5)
    pytest.fail(f"{name} not {phase} within {seconds} s")


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
    await _until_phase(tenants, name, "Ready", 90)

    keys = await db.fetch(f"SELECT purpose, version FROM {names.schema}.data_keys")
    assert sorted((k["purpose"], k["version"]) for k in keys) == [("data", 1), ("index", 1)]
    assert await db.fetchval("SELECT count(*) FROM platform.tenants WHERE slug = $1", name) == 1
    async with kafka_admin(stack.kafka) as admin:
        assert set(tenant_topics(names)) <= set(await admin.list_topics())
    admin_api = KeycloakAdmin.from_environment(stack.values)
    clients = (await admin_api.request("GET", f"/{name}/clients")).json()
    ours = [c["clientId"] for c in clients if c["clientId"].startswith("simptu-")]
    assert sorted(ours) == ["simptu-agent", "simptu-operator", "simptu-web"]


# What releases before Kopf's storage moved to `kopf.simptu.io/` left on every Tenant: with the
# marker there, Kopf treated all `simptu.io/` annotations as its own and ignored their changes.
EARLIER_KOPF_STORAGE = {"simptu.io/kopf-managed": "yes",
                        "simptu.io/last-handled-configuration": '{"spec":{}}\n'}
# The test operator's drift check runs every 300 s (its default): a change acted on sooner was
# acted on as a change.
SOONER_THAN_THE_DRIFT_CHECK = 120


async def test_an_upgraded_operator_acts_on_its_annotations_at_once(
    operator_process: OperatorProcess, tenants: Any, unique: str,
) -> None:
    name = f"{unique}-upgrade"
    await operator_process.start()
    tenants.apply({"apiVersion": "simptu.io/v1alpha1", "kind": "Tenant",
                   "metadata": {"name": name},
                   "spec": {"displayName": "Upgrade", "businessType": "gym",
                            "deletionPolicy": "Delete"}})
    await _until_phase(tenants, name, "Ready", 300)
    await operator_process.stop()
    tenants.api.patch_cluster_custom_object(
        "simptu.io", "v1alpha1", "tenants", name,
        {"metadata": {"annotations": EARLIER_KOPF_STORAGE}})

    await operator_process.start()  # the new release resumes the Tenant
    for _ in range(240):
        annotations = (await asyncio.to_thread(tenants.get, name))["metadata"]["annotations"]
        if not set(EARLIER_KOPF_STORAGE) & set(annotations):
            break
        await asyncio.sleep(0.5)
    assert not set(EARLIER_KOPF_STORAGE) & set(annotations)
    assert "kopf.simptu.io/last-handled-configuration" in annotations

    pause = {"simptu.io/pause-reconciliation": "true"}
    tenants.api.patch_cluster_custom_object("simptu.io", "v1alpha1", "tenants", name,
                                            {"metadata": {"annotations": pause}})
    await _until_phase(tenants, name, "Paused", SOONER_THAN_THE_DRIFT_CHECK)
    tenants.api.patch_cluster_custom_object(
        "simptu.io", "v1alpha1", "tenants", name,
        {"metadata": {"annotations": {"simptu.io/pause-reconciliation": None}}})
    await _until_phase(tenants, name, "Ready", SOONER_THAN_THE_DRIFT_CHECK)
