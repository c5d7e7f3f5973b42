"""Each demo tenant's agent runs as its own pod on the node, from the image built here, and that
pod answers the tenant's customers: its own turn counter moves with the conversation."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
import yaml
from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv
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
                        core_settings.kafka)
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


async def _agent_pods(core: k8s.CoreV1Api, namespace: str) -> list[k8s.V1Pod]:
    try:
        found = await asyncio.to_thread(core.list_namespaced_pod, namespace,
                                        label_selector="app.kubernetes.io/name=agent")
    except k8s.ApiException as error:
        if error.status == 404:
            return []
        raise
    return list(found.items)


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    """Polls `check` each second until it holds (the caller's timeout bounds the wait)."""
    while True:
        if await check():
            return
        await asyncio.sleep(1)


async def test_a_new_tenant_gets_an_agent_pod_suspending_removes_it_deleting_leaves_none(
        kube: k8s.ApiClient, unique: str) -> None:
    tenants, core = k8s.CustomObjectsApi(kube), k8s.CoreV1Api(kube)
    slug = f"{unique}-gym"
    namespace = TenantNames(slug).namespace
    tenants.create_cluster_custom_object("simptu.io", "v1alpha1", "tenants", {
        "apiVersion": "simptu.io/v1alpha1", "kind": "Tenant", "metadata": {"name": slug},
        "spec": {"displayName": "Node test gym", "businessType": "gym",
                 "deletionPolicy": "Delete"}})
    try:
        async def ready() -> bool:
            return any(any(c.type == "Ready" and c.status == "True"
                           for c in pod.status.conditions or [])
                       for pod in await _agent_pods(core, namespace))

        await asyncio.wait_for(_until(ready), 300)
        tenants.patch_cluster_custom_object("simptu.io", "v1alpha1", "tenants", slug,
                                            {"spec": {"suspended": True}})

        async def no_pods() -> bool:
            return not await _agent_pods(core, namespace)

        await asyncio.wait_for(_until(no_pods), 120)
    finally:
        tenants.delete_cluster_custom_object("simptu.io", "v1alpha1", "tenants", slug)

    async def namespace_gone() -> bool:
        try:
            await asyncio.to_thread(core.read_namespace, namespace)
        except k8s.ApiException as error:
            return bool(error.status == 404)
        return False

    await asyncio.wait_for(_until(namespace_gone), 300)
    assert await _agent_pods(core, namespace) == []


async def _tenant_ready(tenants: k8s.CustomObjectsApi, slug: str) -> None:
    async def ready() -> bool:
        found = await asyncio.to_thread(tenants.get_cluster_custom_object,
                                        "simptu.io", "v1alpha1", "tenants", slug)
        return bool((found.get("status") or {}).get("phase") == "Ready")

    await _until(ready)


def _a_weekday_months_ahead() -> dt.date:
    """A Tuesday a random number of weeks ahead: no other test books that day's slot."""
    day = dt.date.today() + dt.timedelta(days=random.randrange(60, 360))  # noqa: S311
    return day + dt.timedelta(days=(1 - day.weekday()) % 7)


async def test_the_agent_pod_killed_after_the_customers_yes_books_once_and_goes_on(
        kube: k8s.ApiClient, stack: StackEnv, unique: str, db: asyncpg.Pool,
        key_ring: KeyRing, producer: EventProducer, core_settings: CoreSettings) -> None:
    tenants, core = k8s.CustomObjectsApi(kube), k8s.CoreV1Api(kube)
    slug = f"{unique}-dental"
    names = TenantNames(slug)
    tenants.create_cluster_custom_object("simptu.io", "v1alpha1", "tenants", {
        "apiVersion": "simptu.io/v1alpha1", "kind": "Tenant", "metadata": {"name": slug},
        "spec": {"displayName": "Node test clinic", "businessType": "dental-clinic",
                 "deletionPolicy": "Delete"}})
    conversation = Chat(AgentTenant(names, "dental-clinic"), db, producer, key_ring,
                        core_settings.kafka)
    try:
        await asyncio.wait_for(_tenant_ready(tenants, slug), 300)
        seeded = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "simptu.runtime", "seed-demo-catalogue", slug],
            env={**os.environ, **stack.values}, capture_output=True, text=True, timeout=300,
            check=False)
        assert seeded.returncode == 0, seeded.stderr[-2000:]
        first = _agent_pod(kube, slug)
        await conversation.open()
        day = _a_weekday_months_ahead()
        await conversation.say(f"Bună! Vreau o consultație pe {day.isoformat()} la 11, "
                               "mă numesc Ana Pop")
        proposal = await conversation.answer(within=120)
        assert proposal.call is not None, proposal.text
        assert await conversation.bookings() == []

        await conversation.confirm(proposal.call)  # the customer's yes, then the pod dies
        core.delete_namespaced_pod(first.metadata.name, names.namespace,
                                   grace_period_seconds=0)
        booked = await conversation.answer(within=600)  # a new pod, its consumer, the turn
        assert "confirmată" in booked.text, booked.text
        [booking] = await conversation.bookings()
        assert booking["status"] == "booked"
        assert booking["start_at"].astimezone(ZoneInfo("Europe/Bucharest")).date() == day

        async def replaced() -> bool:
            pods = await _agent_pods(core, names.namespace)
            return any(pod.metadata.name != first.metadata.name and any(
                c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
                for pod in pods)

        await asyncio.wait_for(_until(replaced), 300)
        second = _agent_pod(kube, slug)
        before = await _turns(second)
        await conversation.say("Mulțumesc!")
        await conversation.answer(within=120)
        assert await _turns(second) >= before + 1  # the new pod goes on with the conversation
        assert len(await conversation.bookings()) == 1
        # One stored reply per answered message: the proposal, the booking, the thanks.
        assert len(await conversation.agent_messages()) == 3
    finally:
        await conversation.close()
        tenants.delete_cluster_custom_object("simptu.io", "v1alpha1", "tenants", slug)
