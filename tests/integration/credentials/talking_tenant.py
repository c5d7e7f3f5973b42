"""What the credential lifecycle tests share: a new tenant applied to the stack's operator, a
conversation with its agent running as a real pod, and, at the end, the Tenant deleted and
gone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from kubernetes import client as k8s

from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.events import EventProducer
from simptu.runtime.core.kafka_access import KafkaAccess
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.agent.conftest import AgentTenant, Chat
from tests.integration.credentials.redis_acl_pods import TENANTS, ready_agent_pod, until

PROVISIONING = 420.0  # failsafes on waits for the operator and the node, never assertions
ROLLING = 600.0


async def exchange(conversation: Chat, text: str) -> None:
    await conversation.say(text)
    answer = await conversation.answer(within=ROLLING)  # a pod rolling meanwhile answers later
    assert answer.text


@asynccontextmanager
async def talking_tenant(kube: k8s.ApiClient, slug: str, db: asyncpg.Pool, key_ring: KeyRing,
                         producer: EventProducer, kafka: KafkaAccess) -> AsyncIterator[Chat]:
    """A dental clinic (deletion policy Delete) whose agent pod is ready, and an open
    conversation with it; on leaving, the Tenant is deleted and waited for until gone."""
    tenants = k8s.CustomObjectsApi(kube)
    tenants.create_cluster_custom_object(*TENANTS, {
        "apiVersion": "simptu.io/v1alpha1", "kind": "Tenant", "metadata": {"name": slug},
        "spec": {"displayName": f"Clinic {slug}", "businessType": "dental-clinic",
                 "deletionPolicy": "Delete"}})
    conversation = Chat(AgentTenant(TenantNames(slug), "dental-clinic"), db, producer,
                        key_ring, kafka)
    try:
        await asyncio.wait_for(until(lambda: ready_agent_pod(kube, slug) is not None),
                               PROVISIONING)
        await conversation.open()
        yield conversation
    finally:
        await conversation.close()
        tenants.delete_cluster_custom_object(*TENANTS, slug)

    def gone() -> bool:
        try:
            tenants.get_cluster_custom_object(*TENANTS, slug)
        except k8s.ApiException as error:
            return bool(error.status == 404)
        return False

    await asyncio.wait_for(until(gone), PROVISIONING)
