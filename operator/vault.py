"""A tenant's keys in OpenBao: its transit key and wrapped data keys, a policy that allows only
that key, and a Kubernetes-auth role that gives the policy to the tenant's agent."""

from __future__ import annotations

import asyncio

import asyncpg
import hvac
import redis.asyncio as aioredis

from simptu.runtime.core.crypto import KeyStore, TenantShredded, ensure_data_key, shred_tenant
from simptu.runtime.core.tenancy import TenantNames
from simptu.vault.policies import tenant_agent_policy

KUBERNETES_AUTH = "kubernetes"
AGENT_SERVICE_ACCOUNT = "agent"


def policy_text(tenant: TenantNames) -> str:
    return tenant_agent_policy(tenant.transit_key)


def _kubernetes_auth_enabled(admin: hvac.Client) -> bool:
    return f"{KUBERNETES_AUTH}/" in admin.sys.list_auth_methods()["data"]


def _ensure_access(admin: hvac.Client, tenant: TenantNames) -> None:
    admin.sys.create_or_update_policy(name=tenant.transit_key, policy=policy_text(tenant))
    if _kubernetes_auth_enabled(admin):
        admin.auth.kubernetes.create_role(
            name=tenant.transit_key, mount_point=KUBERNETES_AUTH,
            bound_service_account_names=[AGENT_SERVICE_ACCOUNT],
            bound_service_account_namespaces=[tenant.namespace],
            policies=[tenant.transit_key], ttl="1h", audience="openbao")


async def ensure(pool: asyncpg.Pool, keystore: KeyStore, admin: hvac.Client,
                 tenant: TenantNames) -> int:
    """Transit key, data keys, policy and role; returns the transit key's latest version.
    A shredded tenant stays shredded: TenantShredded is raised, nothing is re-created."""
    async with pool.acquire() as conn:
        await ensure_data_key(conn, keystore, tenant)
    await asyncio.to_thread(_ensure_access, admin, tenant)
    return (await keystore.key_info(tenant.transit_key)).latest_version


def _access_problem(admin: hvac.Client, tenant: TenantNames) -> str | None:
    try:
        admin.sys.read_policy(name=tenant.transit_key)
    except hvac.exceptions.InvalidPath:
        return f"policy {tenant.transit_key} is missing"
    if _kubernetes_auth_enabled(admin):
        try:
            admin.auth.kubernetes.read_role(name=tenant.transit_key, mount_point=KUBERNETES_AUTH)
        except hvac.exceptions.InvalidPath:
            return f"kubernetes auth role {tenant.transit_key} is missing"
    return None


async def check(keystore: KeyStore, admin: hvac.Client, tenant: TenantNames) -> str | None:
    """None when key, policy and role are in place, else what is wrong."""
    try:
        await keystore.key_info(tenant.transit_key)
    except TenantShredded:
        return f"transit key {tenant.transit_key} does not exist"
    return await asyncio.to_thread(_access_problem, admin, tenant)


def _remove_access(admin: hvac.Client, tenant: TenantNames) -> None:
    admin.sys.delete_policy(name=tenant.transit_key)
    if _kubernetes_auth_enabled(admin):
        admin.auth.kubernetes.delete_role(name=tenant.transit_key, mount_point=KUBERNETES_AUTH)


async def remove(keystore: KeyStore, admin: hvac.Client, redis: aioredis.Redis,
                 tenant: TenantNames, shred: bool) -> None:
    """Take the agent's access away; with `shred`, destroy the transit key too (for good)."""
    await asyncio.to_thread(_remove_access, admin, tenant)
    if shred:
        await shred_tenant(keystore, tenant, redis)
