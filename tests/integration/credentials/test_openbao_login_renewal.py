"""The agent worker logs in to OpenBao with a projected ServiceAccount token and logs in again
before its OpenBao token runs out, reading the token file anew each time (the kubelet rotates
it): with a role whose tokens last seconds, a conversation goes on across many of them, and
after the first ServiceAccount token is revoked and a key rotation makes the worker unwrap
again, no message is lost."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv
from simptu.operator import vault
from simptu.runtime.core.crypto import BaoLogin, BaoSession, OpenBaoTransit, rotate_data_key
from simptu.runtime.core.registry import TenantAgent
from simptu.runtime.core.settings import CoreSettings
from tests.integration.agent import conftest as agent_fixtures
from tests.integration.agent.conftest import AgentFactory, AgentTenant, provision, unprovision

# The agent tests' worker and conversation fixtures, used here too.
agent_process = agent_fixtures.agent_process
chat = agent_fixtures.chat

TOKEN_TTL = 6  # seconds an OpenBao token of the test's role lasts: the worker logs in at 4
LOGINS = re.compile(
    r'^simptu_bao_logins_total\{method="kubernetes",outcome="(ok|refused)"\} ([0-9.e+]+)$',
    re.MULTILINE)


@pytest.fixture
async def tenant_with_short_tokens(db: asyncpg.Pool, redis_client: aioredis.Redis,
                                   core_settings: CoreSettings, stack: StackEnv,
                                   kube: k8s.ApiClient, unique: str,
                                   ) -> AsyncIterator[AgentTenant]:
    """A dental clinic whose agent ServiceAccount's OpenBao role gives tokens of TOKEN_TTL
    seconds (the operator's role, its time shortened)."""
    transit = OpenBaoTransit.from_settings(core_settings)
    async with db.acquire() as conn:
        tenant = await provision(conn, redis_client, transit, core_settings.kafka,
                                 f"{unique}-renew", "dental-clinic", TenantAgent())
    core = k8s.CoreV1Api(kube)
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(
        name=tenant.names.namespace)))
    core.create_namespaced_service_account(tenant.names.namespace, k8s.V1ServiceAccount(
        metadata=k8s.V1ObjectMeta(name="agent")))
    admin = vault.BaoAdmin(BaoSession(stack["BAO_ADDR"], BaoLogin(token=stack["BAO_TOKEN"])),
                           token_ttl=TOKEN_TTL)
    await vault.ensure(db, transit, admin, tenant.names)
    try:
        yield tenant
    finally:
        core.delete_namespace(tenant.names.namespace)
        await vault.remove(transit, admin, redis_client, tenant.names, shred=False)
        async with db.acquire() as conn:
            await unprovision(conn, redis_client, transit, core_settings.kafka,
                              tenant)


def write_token_bound_to(kube: k8s.ApiClient, namespace: str, secret: str, file: Path) -> None:
    """A token of the agent ServiceAccount for OpenBao, valid while the Secret `secret` exists
    (deleting it revokes the token), written where the worker reads it: as the kubelet does."""
    core = k8s.CoreV1Api(kube)
    made = core.create_namespaced_secret(namespace, {"metadata": {"name": secret}})
    request = k8s.AuthenticationV1TokenRequest(spec=k8s.V1TokenRequestSpec(
        audiences=["openbao"], expiration_seconds=600,
        bound_object_ref=k8s.V1BoundObjectReference(
            api_version="v1", kind="Secret", name=secret, uid=made.metadata.uid)))
    issued = core.create_namespaced_service_account_token("agent", namespace, request)
    staged = file.with_suffix(".new")
    staged.write_text(str(issued.status.token))
    staged.replace(file)  # at once, as the kubelet's atomic writer swaps its files


async def logins(port: int) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=5) as client:
        page = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    return {outcome: float(value) for outcome, value in LOGINS.findall(page)}


async def logged_in_again(port: int, times: int) -> None:
    """Until the worker has logged in `times` more times than now (the test's timeout bounds
    the wait)."""
    start = (await logins(port)).get("ok", 0.0)
    while True:
        if (await logins(port)).get("ok", 0.0) >= start + times:
            return
        await asyncio.sleep(0.5)


async def test_the_agent_logs_in_again_before_its_token_ends_and_loses_no_message(
        tenant_with_short_tokens: AgentTenant, agent_process: AgentFactory, chat: Any,
        kube: k8s.ApiClient, db: asyncpg.Pool, redis_client: aioredis.Redis,
        core_settings: CoreSettings, tmp_path: Path, unique: str) -> None:
    tenant = tenant_with_short_tokens
    token_file = tmp_path / "token"
    write_token_bound_to(kube, tenant.names.namespace, f"{unique}-first", token_file)
    worker = agent_process(["--tenant", tenant.slug], {
        "SIMPTU_BAO_AUTH": "kubernetes", "SIMPTU_BAO_AUTH_MOUNT": "kubernetes",
        "SIMPTU_BAO_ROLE": tenant.names.transit_key, "SIMPTU_BAO_JWT_FILE": str(token_file),
        "SIMPTU_AGENT_GROUP_ID": f"{unique}-agent"})
    await worker.start()
    conversation = await chat(tenant)
    answers = []
    await conversation.say("Bună ziua!")
    answers.append(await conversation.answer())

    # The kubelet's rotation: a new token in the file, the old one revoked.
    write_token_bound_to(kube, tenant.names.namespace, f"{unique}-second", token_file)
    k8s.CoreV1Api(kube).delete_namespaced_secret(f"{unique}-first", tenant.names.namespace)
    await asyncio.wait_for(logged_in_again(worker.port, 3), 120)  # 3 tokens' lifetimes
    # A new data key: every key ring forgets the tenant's keys and unwraps again, now.
    async with db.acquire() as conn:
        await rotate_data_key(conn, OpenBaoTransit.from_settings(core_settings), tenant.names,
                              redis_client)
    await conversation.say("Ce program aveți sâmbătă?")
    answers.append(await conversation.answer())
    await asyncio.wait_for(logged_in_again(worker.port, 1), 60)
    await conversation.say("Mulțumesc!")
    answers.append(await conversation.answer())

    assert len({answer.message_id for answer in answers}) == 3
    assert all(answer.text for answer in answers)
    counted = await logins(worker.port)
    assert counted["ok"] >= 5
    assert counted.get("refused", 0.0) == 0  # never after the first token was revoked
