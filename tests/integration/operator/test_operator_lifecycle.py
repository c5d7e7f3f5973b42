"""The operator, run for real (Kopf against the local kube-apiserver), turns Tenants into
provisioned tenants, repairs drift, reports what a human must fix, and deletes by policy."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import hvac
import pytest
from kopf.testing import KopfRunner
from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv
from simptu.devstack.services.operator import stack_operator_settings
from simptu.devstack.stack import Stack
from simptu.operator import keycloak
from simptu.operator.keycloak import KeycloakAdmin
from simptu.runtime.core.crypto import OpenBaoTransit, TenantShredded
from simptu.runtime.core.events.topics import kafka_admin, tenant_topics
from simptu.runtime.core.tenancy import TenantNames
from tests.lua_health import run_health

Manifest = dict[str, Any]
# Argo CD's health check for Tenant, run on what this operator really writes.
HEALTH_LUA = (Path(__file__).resolve().parents[3] / "examples/gitops/argocd"
              / "resource_customizations/simptu.io/Tenant/health.lua")


@pytest.fixture(scope="module")
def operator(local_stack: Stack, stack: StackEnv, tenant_crd: str) -> Iterator[KopfRunner]:
    """The operator in this process, as `make up` runs it, with a 2-second drift timer."""
    overrides = {**stack.values, **stack_operator_settings(stack.node),
                 "SIMPTU_OPERATOR_DRIFT_CHECK_INTERVAL": "2", "SIMPTU_OPERATOR_PORT": "58181"}
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    # Above the `make up` operator (which pauses meanwhile) and above any earlier test
    # operator whose peering record may linger.
    priority = str(int(time.time() * 10) % 10**9)
    runner = KopfRunner(["run", "--peering=simptu-operator", f"--priority={priority}",
                         "--all-namespaces", "-m", "simptu.operator.main"])
    try:
        with runner:
            yield runner
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert runner.exception is None, runner.output


def tenant_manifest(name: str, policy: str = "Delete", **spec: Any) -> Manifest:
    return {"apiVersion": "simptu.io/v1alpha1", "kind": "Tenant", "metadata": {"name": name},
            "spec": {"displayName": f"Test {name}", "businessType": "gym",
                     "deletionPolicy": policy,
                     "channels": {"web": {"allowedOrigins": ["https://gym.example"]}},
                     **spec}}


async def wait_for(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 90) -> None:
    for _ in range(int(seconds * 2)):
        if await check():
            return
        await asyncio.sleep(0.5)
    pytest.fail(f"not within {seconds}s: {what}")


def condition(tenant: Manifest, type_: str) -> Manifest:
    found = [c for c in (tenant.get("status") or {}).get("conditions", []) if c["type"] == type_]
    return found[0] if found else {}


async def phase_is(tenants: Any, name: str, phase: str) -> bool:
    status = (await asyncio.to_thread(tenants.get, name)).get("status") or {}
    return bool(status.get("phase") == phase)


async def test_an_applied_tenant_becomes_ready_with_everything_provisioned(
    operator: KopfRunner, tenants: Any, unique: str, db: asyncpg.Pool, stack: StackEnv,
    kube: k8s.ApiClient,
) -> None:
    name = f"{unique}-gym"
    tenants.apply(tenant_manifest(name))
    await wait_for(lambda: phase_is(tenants, name, "Ready"), f"{name} Ready")
    tenant, names = tenants.get(name), TenantNames(name)
    assert condition(tenant, "Ready")["status"] == "True"
    assert tenant["status"]["observedGeneration"] == tenant["metadata"]["generation"]
    # kstatus (Flux, kpt): Current needs both abnormal-true conditions False
    assert (condition(tenant, "Reconciling")["status"], condition(tenant, "Stalled")["status"]) \
        == ("False", "False")
    assert tenant["status"]["provisioned"]["schema"] == names.schema
    # Each provisioned thing, seen in its own system.
    assert await db.fetchval("SELECT status FROM platform.tenants WHERE slug = $1", name) == "Ready"
    assert await db.fetchval("SELECT web_origins FROM platform.tenants WHERE slug = $1",
                             name) == ["https://gym.example"]  # the API's CORS and guest tokens
    assert await db.fetchval("SELECT to_regclass($1)", f"{names.schema}.customers") is not None
    keystore = OpenBaoTransit(stack["BAO_ADDR"], stack["BAO_TOKEN"])
    assert (await keystore.key_info(names.transit_key)).latest_version == 1
    async with kafka_admin(stack.kafka) as admin:
        assert set(tenant_topics(names)) <= set(await admin.list_topics())
    async with httpx.AsyncClient() as http:
        discovery = await http.get(f"{stack['SIMPTU_KEYCLOAK_URL']}/realms/{name}"
                                   "/.well-known/openid-configuration")
    assert discovery.status_code == 200
    deployment = k8s.AppsV1Api(kube).read_namespaced_deployment("agent", names.namespace)
    assert deployment.metadata is not None
    assert (deployment.metadata.labels or {})["simptu.io/business-type"] == "gym"


async def test_agent_ready_never_contradicts_its_own_message(
    operator: KopfRunner, tenants: Any, unique: str,
) -> None:
    name = f"{unique}-agent"
    tenants.apply(tenant_manifest(name))
    await wait_for(lambda: phase_is(tenants, name, "Ready"), f"{name} Ready")
    agent = condition(tenants.get(name), "AgentReady")
    assert agent["status"] == "True"
    counted = re.search(r"(\d+)/(\d+) agent replicas ready", agent["message"])
    if counted:  # observed on a node: as many ready as wanted
        assert counted.group(1) == counted.group(2), agent
    else:  # no node runs the pods (SIMPTU_AGENT_READINESS=declared): said in words
        assert agent["reason"] == "Declared", agent
        assert "readiness is declared, not observed" in agent["message"], agent


async def test_what_is_removed_by_hand_comes_back(
    operator: KopfRunner, tenants: Any, unique: str, db: asyncpg.Pool, stack: StackEnv,
    kube: k8s.ApiClient,
) -> None:
    name = f"{unique}-drift"
    names = TenantNames(name)
    tenants.apply(tenant_manifest(name))
    await wait_for(lambda: phase_is(tenants, name, "Ready"), f"{name} Ready")
    await db.execute(f"DROP SCHEMA {names.schema} CASCADE")
    k8s.AppsV1Api(kube).delete_namespaced_deployment("agent", names.namespace)
    async with kafka_admin(stack.kafka) as admin:
        await admin.delete_topics([names.topic("outbound")])
    realm_admin = KeycloakAdmin.from_environment(stack.values)
    await keycloak.remove(realm_admin, name)

    async def repaired() -> bool:
        schema = await db.fetchval("SELECT to_regclass($1)", f"{names.schema}.customers")
        async with kafka_admin(stack.kafka) as admin:
            topics = set(await admin.list_topics())
        try:
            k8s.AppsV1Api(kube).read_namespaced_deployment("agent", names.namespace)
        except k8s.ApiException:
            return False
        return (schema is not None and names.topic("outbound") in topics
                and await keycloak.check(realm_admin, name))

    await wait_for(repaired, "schema, topic, Deployment and realm recreated")
    await realm_admin.aclose()


async def test_a_missing_secret_is_reported_until_it_exists(
    operator: KopfRunner, tenants: Any, unique: str, kube: k8s.ApiClient,
) -> None:
    name = f"{unique}-hotel"
    names = TenantNames(name)
    tenants.apply(tenant_manifest(name, agent={"model": {"provider": "openai", "name": "gpt"},
                                               "credentialsSecretRef": {"name": "llm"}}))

    async def reported() -> bool:
        agent = condition(await asyncio.to_thread(tenants.get, name), "AgentReady")
        return agent.get("status") == "False" and "Secret llm not found" in agent["message"]

    await wait_for(reported, "AgentReady names the missing Secret")
    assert not await phase_is(tenants, name, "Ready")
    stalled = condition(await asyncio.to_thread(tenants.get, name), "Stalled")
    assert (stalled["status"], stalled["reason"]) == ("True", "NeedsAttention")  # a human acts
    assert run_health(HEALTH_LUA, tenants.get(name)).status == "Degraded"
    k8s.CoreV1Api(kube).create_namespaced_secret(names.namespace, k8s.V1Secret(
        metadata=k8s.V1ObjectMeta(name="llm"), string_data={"credentials": "sk-test"}))
    await wait_for(lambda: phase_is(tenants, name, "Ready"), f"{name} Ready once the Secret exists")
    assert run_health(HEALTH_LUA, tenants.get(name)).status == "Healthy"


@pytest.mark.parametrize("policy", ["Retain", "Delete", "Shred"])
async def test_deleting_leaves_exactly_what_the_policy_says(
    operator: KopfRunner, tenants: Any, unique: str, db: asyncpg.Pool, stack: StackEnv,
    policy: str,
) -> None:
    name = f"{unique}-{policy.lower()}"
    names = TenantNames(name)
    tenants.apply(tenant_manifest(name, policy=policy))
    await wait_for(lambda: phase_is(tenants, name, "Ready"), f"{name} Ready")
    await asyncio.to_thread(tenants.api.delete_cluster_custom_object,
                            "simptu.io", "v1alpha1", "tenants", name)

    async def gone() -> bool:
        try:
            await asyncio.to_thread(tenants.get, name)
        except k8s.ApiException as error:
            return bool(error.status == 404)
        return False

    await wait_for(gone, "the finalizer let the Tenant go")
    assert await db.fetchval("SELECT 1 FROM platform.tenants WHERE slug = $1", name) is None
    schema = await db.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", names.schema)
    keystore = OpenBaoTransit(stack["BAO_ADDR"], stack["BAO_TOKEN"])
    # Whatever the policy, its agent logs in to OpenBao no more: its role and policy are gone.
    bao = keystore.session.client
    with pytest.raises(hvac.exceptions.InvalidPath):
        bao.auth.kubernetes.read_role(name=names.transit_key)
    with pytest.raises(hvac.exceptions.InvalidPath):
        bao.sys.read_policy(name=names.transit_key)
    if policy == "Retain":
        assert schema == 1
        assert (await keystore.key_info(names.transit_key)).latest_version == 1
        # Applied again, the Tenant adopts what was retained (the fixture then shreds it).
        tenants.apply(tenant_manifest(name, policy="Shred"))
        await wait_for(lambda: phase_is(tenants, name, "Ready"), f"{name} Ready again")
        assert (await keystore.key_info(names.transit_key)).latest_version == 1
        return
    assert schema is None
    async with kafka_admin(stack.kafka) as admin:
        assert not set(tenant_topics(names)) & set(await admin.list_topics())
    if policy == "Delete":
        assert (await keystore.key_info(names.transit_key)).latest_version == 1
    else:
        with pytest.raises(TenantShredded):
            await keystore.key_info(names.transit_key)


async def test_a_paused_tenant_is_left_alone(operator: KopfRunner, tenants: Any,
                                            unique: str) -> None:
    name = f"{unique}-paused"
    manifest = tenant_manifest(name)
    manifest["metadata"]["annotations"] = {"simptu.io/pause-reconciliation": "true"}
    tenants.apply(manifest)
    await wait_for(lambda: phase_is(tenants, name, "Paused"), f"{name} Paused")
    paused = condition(tenants.get(name), "ReconciliationPaused")
    assert paused["status"] == "True"
    assert "no changes are made" in paused["message"]


async def test_suspending_scales_the_agent_to_zero_and_stops_routing(
    operator: KopfRunner, tenants: Any, unique: str, db: asyncpg.Pool, kube: k8s.ApiClient,
) -> None:
    name = f"{unique}-suspend"
    names = TenantNames(name)
    tenants.apply(tenant_manifest(name))
    await wait_for(lambda: phase_is(tenants, name, "Ready"), f"{name} Ready")
    tenants.apply(tenant_manifest(name, suspended=True))
    await wait_for(lambda: phase_is(tenants, name, "Suspended"), f"{name} Suspended")
    updated = tenants.get(name)
    assert updated["status"]["observedGeneration"] == updated["metadata"]["generation"] == 2
    assert run_health(HEALTH_LUA, updated).status == "Suspended"
    deployment = k8s.AppsV1Api(kube).read_namespaced_deployment("agent", names.namespace)
    assert deployment.spec is not None
    assert deployment.spec.replicas == 0
    status = await db.fetchval("SELECT status FROM platform.tenants WHERE slug = $1", name)
    assert status == "Suspended"  # runtimes get TenantNotReady


async def test_the_operator_serves_health_and_metrics(operator: KopfRunner, tenants: Any,
                                                      unique: str) -> None:
    name = f"{unique}-metrics"
    tenants.apply(tenant_manifest(name))
    await wait_for(lambda: phase_is(tenants, name, "Ready"), f"{name} Ready")
    async with httpx.AsyncClient(base_url="http://127.0.0.1:58181", timeout=5) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert (await http.get("/readyz")).status_code == 200
        metrics = (await http.get("/metrics")).text
    assert 'simptu_operator_reconciles_total{result="ok"}' in metrics
    assert 'simptu_operator_tenants{phase="Ready"}' in metrics
    assert "simptu_operator_reconcile_seconds_bucket" in metrics
