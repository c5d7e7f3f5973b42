"""A new tenant's Redis user through its life, with its agent running as a real pod: rotating
its password while a conversation runs loses no reply and the old password is refused
afterwards; a user lost (a Redis restart without an ACL file) is reported and made again by
the next reconcile; deleting the tenant refuses its password."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import redis.asyncio as aioredis
from kubernetes import client as k8s
from redis.exceptions import AuthenticationError

from simptu.operator import redis_acl
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.events import EventProducer
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.agent.conftest import Chat
from tests.integration.credentials.redis_acl_pods import (
    annotate_tenant,
    ready_agent_pod,
    secret_annotations,
    tenant_redis_url,
    until,
)
from tests.integration.credentials.talking_tenant import (
    PROVISIONING,
    ROLLING,
    exchange,
    talking_tenant,
)


async def _pings(url: str) -> bool:
    client = aioredis.Redis.from_url(url, socket_timeout=5)
    try:
        return bool(await client.ping())
    finally:
        await client.aclose()


async def _refused(url: str) -> None:
    with pytest.raises(AuthenticationError):
        await _pings(url)


async def _rotate_while_talking(kube: k8s.ApiClient, conversation: Chat, slug: str) -> None:
    old = tenant_redis_url(kube, slug)
    assert old is not None
    annotate_tenant(kube, slug, {redis_acl.ROTATE_ANNOTATION: "1"})
    await exchange(conversation, "Bună ziua, din nou!")  # while the pods roll

    def rotated() -> bool:
        return (tenant_redis_url(kube, slug) != old
                and redis_acl.RETIRING not in secret_annotations(kube, slug))

    await asyncio.wait_for(until(rotated), ROLLING)
    await asyncio.wait_for(until(lambda: ready_agent_pod(kube, slug) is not None), ROLLING)
    await exchange(conversation, "Mulțumesc!")  # the new pod, on the new password
    await _refused(old)
    new = tenant_redis_url(kube, slug)
    assert new is not None
    assert await _pings(new)


async def _lost_user_is_made_again(kube: k8s.ApiClient, redis_client: aioredis.Redis,
                                   slug: str) -> None:
    names = TenantNames(slug)
    user = redis_acl.user_name(names)
    assert await redis_client.acl_deluser(user) == 1  # what a restart without aclfile does
    annotations = secret_annotations(kube, slug)
    current = redis_acl.Credentials("", None, annotations.get(redis_acl.ROTATION, ""))
    assert await redis_acl.check(redis_client, names, current) == (
        f"Redis ACL user {user} is missing")
    annotate_tenant(kube, slug, {"simptu.io/test-touch": "1"})  # a change: a reconcile now

    async def back() -> bool:
        return bool(await redis_client.acl_getuser(user))

    await asyncio.wait_for(until(back), PROVISIONING)
    url = tenant_redis_url(kube, slug)
    assert url is not None
    assert await _pings(url)


async def test_a_tenants_redis_user_rotates_is_repaired_and_is_deleted_with_it(
        kube: k8s.ApiClient, unique: str, db: asyncpg.Pool, key_ring: KeyRing,
        producer: EventProducer, core_settings: CoreSettings,
        redis_client: aioredis.Redis) -> None:
    slug = f"{unique}-redis"
    async with talking_tenant(kube, slug, db, key_ring, producer,
                              core_settings.kafka) as conversation:
        await exchange(conversation, "Bună ziua!")
        await _rotate_while_talking(kube, conversation, slug)
        # One stored reply per message, none lost while the pods rolled.
        assert len(await conversation.agent_messages()) == 3
        await _lost_user_is_made_again(kube, redis_client, slug)
        url = tenant_redis_url(kube, slug)
        assert url is not None
    await _refused(url)
    assert not await redis_client.acl_getuser(redis_acl.user_name(TenantNames(slug)))
