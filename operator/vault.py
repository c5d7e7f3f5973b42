"""A tenant's keys in OpenBao: its transit key and wrapped data keys, a policy that allows only
that key, and a Kubernetes-auth role that gives the policy to the tenant's agent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
import hvac
import redis.asyncio as aioredis

from simptu.runtime.core.crypto import (
    BaoSession,
    KeyStore,
    TenantShredded,
    ensure_data_key,
    shred_tenant,
)
from simptu.runtime.core.tenancy import TenantNames
from simptu.vault.policies import tenant_agent_policy

AGENT_SERVICE_ACCOUNT = "agent"
Result = TypeVar("Result")


@dataclass(frozen=True)
class BaoAdmin:
    """The operator's OpenBao session and how tenants' agents log in: the Kubernetes auth
    mount, the audience their projected tokens carry, their tokens' time (seconds)."""

    session: BaoSession
    auth_mount: str = "kubernetes"
    audience: str = "openbao"
    token_ttl: int = 600

    async def run(self, step: Callable[[hvac.Client, BaoAdmin, TenantNames], Result],
                  tenant: TenantNames) -> Result:
        """`step` in a worker thread, with a logged-in client (hvac blocks)."""
        return await asyncio.to_thread(lambda: step(self.session.fresh(), self, tenant))


def policy_text(tenant: TenantNames) -> str:
    return tenant_agent_policy(tenant.transit_key)


def _kubernetes_auth_enabled(client: hvac.Client, bao: BaoAdmin) -> bool:
    return f"{bao.auth_mount}/" in client.sys.list_auth_methods()["data"]


def _ensure_access(client: hvac.Client, bao: BaoAdmin, tenant: TenantNames) -> None:
    client.sys.create_or_update_policy(name=tenant.transit_key, policy=policy_text(tenant))
    if _kubernetes_auth_enabled(client, bao):
        # Only this tenant's agent ServiceAccount, with a token made for OpenBao, for a short
        # time: a leaked token soon stops working, and the agent logs in again before then.
        client.auth.kubernetes.create_role(
            name=tenant.transit_key, mount_point=bao.auth_mount,
            bound_service_account_names=[AGENT_SERVICE_ACCOUNT],
            bound_service_account_namespaces=[tenant.namespace],
            policies=[tenant.transit_key], ttl=f"{bao.token_ttl}s",
            max_ttl=f"{bao.token_ttl}s", audience=bao.audience)


async def ensure(pool: asyncpg.Pool, keystore: KeyStore, admin: BaoAdmin,
                 tenant: TenantNames) -> int:
    """Transit key, data keys, policy and role; returns the transit key's latest version.
    A shredded tenant stays shredded: TenantShredded is raised, nothing is re-created."""
    async with pool.acquire() as conn:
        await ensure_data_key(conn, keystore, tenant)
    await admin.run(_ensure_access, tenant)
    return (await keystore.key_info(tenant.transit_key)).latest_version


def _access_problem(client: hvac.Client, bao: BaoAdmin, tenant: TenantNames) -> str | None:
    try:
        client.sys.read_policy(name=tenant.transit_key)
    except hvac.exceptions.InvalidPath:
        return f"policy {tenant.transit_key} is missing"
    if _kubernetes_auth_enabled(client, bao):
        try:
            client.auth.kubernetes.read_role(name=tenant.transit_key, mount_point=bao.auth_mount)
        except hvac.exceptions.InvalidPath:
            return f"kubernetes auth role {tenant.transit_key} is missing"
    return None


async def check(keystore: KeyStore, admin: BaoAdmin, tenant: TenantNames) -> str | None:
    """None when key, policy and role are in place, else what is wrong."""
    try:
        await keystore.key_info(tenant.transit_key)
    except TenantShredded:
        return f"transit key {tenant.transit_key} does not exist"
    return await admin.run(_access_problem, tenant)


def _remove_access(client: hvac.Client, bao: BaoAdmin, tenant: TenantNames) -> None:
    # The role first: from then on no agent of the tenant logs in, whatever its token.
    if _kubernetes_auth_enabled(client, bao):
        client.auth.kubernetes.delete_role(name=tenant.transit_key, mount_point=bao.auth_mount)
    client.sys.delete_policy(name=tenant.transit_key)


async def remove(keystore: KeyStore, admin: BaoAdmin, redis: aioredis.Redis,
                 tenant: TenantNames, shred: bool) -> None:
    """Take the agent's access away; with `shred`, destroy the transit key too (for good)."""
    await admin.run(_remove_access, tenant)
    if shred:
        await shred_tenant(keystore, tenant, redis)
