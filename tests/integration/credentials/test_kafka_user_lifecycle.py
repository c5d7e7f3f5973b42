"""A new tenant's Kafka user on the stack's SASL broker through its life, its agent running as a
real pod: rotating its password while a conversation runs loses no reply and doubles none, the
pods roll onto the tenant's other user and the old one is refused once they have; deleting the
tenant refuses its login."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from aiokafka.errors import SaslAuthenticationFailed
from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv
from simptu.operator import kafka
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.events import EventProducer, kafka_users
from simptu.runtime.core.kafka_access import KafkaAccess
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.agent.conftest import Chat
from tests.integration.credentials.redis_acl_pods import (
    annotate_tenant,
    ready_agent_pod,
    secret_annotations,
    tenant_secret,
    until,
)
from tests.integration.credentials.sasl_kafka import login
from tests.integration.credentials.talking_tenant import ROLLING, exchange, talking_tenant


def _delivered(kube: k8s.ApiClient, stack: StackEnv, slug: str) -> KafkaAccess | None:
    """The login in the tenant's Secret `agent-kafka`, as its pods read it."""
    values = tenant_secret(kube, slug, kafka.USER_SECRET)
    return None if values is None else stack.kafka.as_user(values["SIMPTU_KAFKA_USERNAME"],
                                                           values["SIMPTU_KAFKA_PASSWORD"])


async def _refused(access: KafkaAccess) -> None:
    with pytest.raises(SaslAuthenticationFailed):
        await login(access)


async def _rotate_while_talking(kube: k8s.ApiClient, stack: StackEnv, conversation: Chat,
                                slug: str) -> None:
    old = _delivered(kube, stack, slug)
    assert old is not None
    await login(old)
    annotate_tenant(kube, slug, {kafka.ROTATION: "1"})
    await exchange(conversation, "Bună ziua, din nou!")  # while the pods roll

    def rotated() -> bool:
        """The Secret names the tenant's other user, and the old one is retired (the operator
        does so once no pod of the old template is left)."""
        values = tenant_secret(kube, slug, kafka.USER_SECRET)
        return values is not None and values["SIMPTU_KAFKA_USERNAME"] != old.username \
            and kafka.RETIRING not in secret_annotations(kube, slug, kafka.USER_SECRET)

    await asyncio.wait_for(until(rotated), ROLLING)
    await asyncio.wait_for(until(lambda: ready_agent_pod(kube, slug) is not None), ROLLING)
    await exchange(conversation, "Mulțumesc!")  # the new pod, on the new password
    await _refused(old)
    new = _delivered(kube, stack, slug)
    assert new is not None
    assert {new.username, old.username} == set(kafka_users.tenant_users(TenantNames(slug)))
    await login(new)


async def test_a_tenants_kafka_user_rotates_during_a_conversation_and_goes_with_it(
        kube: k8s.ApiClient, stack: StackEnv, unique: str, db: asyncpg.Pool,
        key_ring: KeyRing, producer: EventProducer, core_settings: CoreSettings) -> None:
    assert stack.kafka.mechanism, "the stack's broker has SASL logins (SIMPTU_KAFKA_SASL)"
    slug = f"{unique}-kafka"
    async with talking_tenant(kube, slug, db, key_ring, producer,
                              core_settings.kafka) as conversation:
        await exchange(conversation, "Bună ziua!")
        await _rotate_while_talking(kube, stack, conversation, slug)
        # One stored reply per message, none lost or doubled while the pods rolled.
        assert len(await conversation.agent_messages()) == 3
        last = _delivered(kube, stack, slug)
        assert last is not None
    await _refused(last)
