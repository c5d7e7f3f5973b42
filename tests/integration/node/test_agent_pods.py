"""Each demo tenant's agent runs as its own pod on the node, from the image built here, and that
pod answers the tenant's customers: its own turn counter moves with the conversation."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import asyncpg
import httpx
import pytest
import yaml
from kubernetes import client as k8s

from simptu.devstack.images import PLATFORM_IMAGE
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.events import EventProducer
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.agent.conftest import AgentTenant, Chat

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "tenants"
DEMO = {(manifest := yaml.safe_load(path.read_text()))["metadata"]["name"]:
        manifest["spec"]["businessType"] for path in sorted(EXAMPLES.glob("*.yaml"))}
TURNS = re.compile(r"^simptu_agent_turns_total\{[^}]*\} ([0-9.e+]+)$", re.MULTILINE)


def _agent_pod(kube: k8s.ApiClient, slug: str) -> k8s.V1Pod:
    pods = k8s.CoreV1Api(kube).list_namespaced_pod(
        TenantNames(slug).namespace, label_selector="app.kubernetes.io/name=agent").items
    ready = [pod for pod in pods if any(c.type == "Ready" and c.status == "True"
                                        for c in pod.status.conditions or [])]
    assert len(ready) == 1, [pod.metadata.name for pod in pods]
    return ready[0]


async def _turns(pod: k8s.V1Pod) -> float:
    port = pod.spec.containers[0].ports[0].container_port
    async with httpx.AsyncClient(timeout=5) as client:
        page = await client.get(f"http://{pod.status.pod_ip}:{port}/metrics")
    return sum(float(value) for value in TURNS.findall(page.text))


@pytest.mark.parametrize("slug", sorted(DEMO))
async def test_each_demo_tenant_is_answered_by_its_own_agent_pod(
        slug: str, kube: k8s.ApiClient, db: asyncpg.Pool, key_ring: KeyRing,
        producer: EventProducer, core_settings: CoreSettings) -> None:
    pod = _agent_pod(kube, slug)
    assert pod.spec.containers[0].image == PLATFORM_IMAGE
    assert pod.spec.node_name is not None
    before = await _turns(pod)
    conversation = Chat(AgentTenant(TenantNames(slug), DEMO[slug]), db, producer, key_ring,
                        core_settings.kafka_bootstrap)
    await conversation.open()
    try:
        await conversation.say("Bună ziua!")
        answer = await asyncio.wait_for(conversation.answer(), 120)
    finally:
        await conversation.close()
    assert "Bună ziua!" in answer.text
    assert await _turns(pod) >= before + 1


def test_the_tenant_is_ready_because_its_agent_pod_is(kube: k8s.ApiClient) -> None:
    for slug in DEMO:
        tenant = k8s.CustomObjectsApi(kube).get_cluster_custom_object(
            "simptu.io", "v1alpha1", "tenants", slug)
        agent = next(c for c in tenant["status"]["conditions"] if c["type"] == "AgentReady")
        assert agent["status"] == "True"
        assert agent["reason"] == "Ready"  # observed, not "Declared"
        assert "1/1 agent replicas ready" in agent["message"]
        _agent_pod(kube, slug)
