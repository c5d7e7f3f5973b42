"""The operator's OpenBao step: transit key, data keys and a policy limited to that key;
repaired when removed by hand; destroyed for good by Shred."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable

import asyncpg
import hvac
import pytest
import redis.asyncio as aioredis
from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv
from simptu.operator import vault
from simptu.runtime.core.crypto import BaoLogin, BaoSession, OpenBaoTransit, TenantShredded
from simptu.runtime.core.tenancy import TenantNames

MakeTenant = Callable[..., Awaitable[TenantNames]]


@pytest.fixture
def admin(stack: StackEnv) -> vault.BaoAdmin:
    return vault.BaoAdmin(BaoSession(stack["BAO_ADDR"], BaoLogin(token=stack["BAO_TOKEN"])))


@pytest.fixture
def keystore(stack: StackEnv) -> OpenBaoTransit:
    return OpenBaoTransit(stack["BAO_ADDR"], stack["BAO_TOKEN"])


async def test_ensure_provisions_a_key_and_a_policy_for_that_key_only(
    db: asyncpg.Pool, keystore: OpenBaoTransit, admin: vault.BaoAdmin,
    redis_client: aioredis.Redis, make_tenant: MakeTenant,
) -> None:
    tenant = await make_tenant()
    try:
        assert await vault.ensure(db, keystore, admin, tenant) == 1
        assert await vault.check(keystore, admin, tenant) is None
        policy = admin.session.client.sys.read_policy(name=tenant.transit_key)["data"]["rules"]
        assert f'path "transit/decrypt/{tenant.transit_key}"' in policy
        assert "transit/decrypt/*" not in policy
        wrapped = await db.fetchval(f"SELECT count(*) FROM {tenant.schema}.data_keys")
        assert wrapped == 2  # the data key and the blind-index key, both wrapped
        assert await vault.ensure(db, keystore, admin, tenant) == 1  # idempotent
    finally:
        await vault.remove(keystore, admin, redis_client, tenant, shred=True)


async def test_a_policy_deleted_by_hand_is_seen_and_restored(
    db: asyncpg.Pool, keystore: OpenBaoTransit, admin: vault.BaoAdmin,
    redis_client: aioredis.Redis, make_tenant: MakeTenant,
) -> None:
    tenant = await make_tenant()
    try:
        await vault.ensure(db, keystore, admin, tenant)
        admin.session.client.sys.delete_policy(name=tenant.transit_key)
        assert await vault.check(keystore, admin, tenant) == (
            f"policy {tenant.transit_key} is missing")
        await vault.ensure(db, keystore, admin, tenant)
        assert await vault.check(keystore, admin, tenant) is None
    finally:
        await vault.remove(keystore, admin, redis_client, tenant, shred=True)


async def test_shredding_destroys_the_key_and_a_shredded_tenant_is_not_revived(
    db: asyncpg.Pool, keystore: OpenBaoTransit, admin: vault.BaoAdmin,
    redis_client: aioredis.Redis, make_tenant: MakeTenant,
) -> None:
    tenant = await make_tenant()
    await vault.ensure(db, keystore, admin, tenant)
    await vault.remove(keystore, admin, redis_client, tenant, shred=True)
    assert await vault.check(keystore, admin, tenant) == (
        f"transit key {tenant.transit_key} does not exist")
    with pytest.raises(TenantShredded):
        await vault.ensure(db, keystore, admin, tenant)


async def test_remove_without_shred_keeps_the_key(
    db: asyncpg.Pool, keystore: OpenBaoTransit, admin: vault.BaoAdmin,
    redis_client: aioredis.Redis, make_tenant: MakeTenant,
) -> None:
    tenant = await make_tenant()
    try:
        await vault.ensure(db, keystore, admin, tenant)
        await vault.remove(keystore, admin, redis_client, tenant, shred=False)
        assert (await keystore.key_info(tenant.transit_key)).latest_version == 1
    finally:
        await vault.remove(keystore, admin, redis_client, tenant, shred=True)


async def test_a_tenant_s_agent_logs_in_with_its_service_account_and_uses_only_its_key(
    db: asyncpg.Pool, keystore: OpenBaoTransit, admin: vault.BaoAdmin, stack: StackEnv,
    redis_client: aioredis.Redis, make_tenant: MakeTenant, kube: k8s.ApiClient,
) -> None:
    mine, theirs = await make_tenant("a"), await make_tenant("b")
    core = k8s.CoreV1Api(kube)
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=mine.namespace)))
    try:
        core.create_namespaced_service_account(mine.namespace, k8s.V1ServiceAccount(
            metadata=k8s.V1ObjectMeta(name="agent")))
        for tenant in (mine, theirs):
            await vault.ensure(db, keystore, admin, tenant)
        request = k8s.AuthenticationV1TokenRequest(spec=k8s.V1TokenRequestSpec(
            audiences=["openbao"], expiration_seconds=600))
        issued = core.create_namespaced_service_account_token("agent", mine.namespace, request)
        assert issued.status is not None
        jwt = issued.status.token
        agent = hvac.Client(url=stack["BAO_ADDR"])
        agent.auth.kubernetes.login(role=mine.transit_key, jwt=jwt)
        plaintext = base64.b64encode(b"hello").decode()
        agent.secrets.transit.encrypt_data(name=mine.transit_key, plaintext=plaintext)
        with pytest.raises(hvac.exceptions.Forbidden):
            agent.secrets.transit.encrypt_data(name=theirs.transit_key, plaintext=plaintext)
        # Another tenant's role does not accept this agent's token.
        with pytest.raises(hvac.exceptions.Forbidden, match="namespace not authorized"):
            hvac.Client(url=stack["BAO_ADDR"]).auth.kubernetes.login(
                role=theirs.transit_key, jwt=jwt)
    finally:
        core.delete_namespace(mine.namespace)
        for tenant in (mine, theirs):
            await vault.remove(keystore, admin, redis_client, tenant, shred=True)
