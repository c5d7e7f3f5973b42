"""What deleting a Tenant removes, by its `deletionPolicy`.

Retain: the tenant stops being routable; schema, role, topics, realm, namespace and key stay.
Every policy drops the agent's own logins (Postgres, Redis, OpenBao role and policy, Kafka user
and ACLs): a deleted tenant logs in nowhere; applied again, the Tenant gets new ones.
Delete: schema, role, topics, realm, namespace and the tenant's Redis keys are dropped; the
        transit key stays.
Shred:  the transit key is destroyed first (every copy of the data, backups included, becomes
        unreadable at once), then everything Delete drops.
"""

from __future__ import annotations

from simptu.operator import database_login, kafka, keycloak, postgres, redis_acl, vault, workloads
from simptu.operator.platform import Platform
from simptu.runtime.core.registry import delete_tenant
from simptu.runtime.core.tenancy import TenantNames
from simptu.runtime.core.tenant_cache import purge_tenant_keys


async def delete(platform: Platform, tenant: TenantNames, policy: str) -> None:
    """Idempotent: a retry after a failure redoes only what is left."""
    p = platform
    await _unregister(p, tenant)  # first: stop routing at once
    # Whatever the policy, the tenant's agent logs in no more (recreated with the Tenant).
    await redis_acl.remove(p.redis, tenant)
    await database_login.remove(p.pool, tenant)
    await kafka.remove_user(p.topics, p.objects, tenant)
    # The OpenBao role and policy go whatever the policy; the key only when shredding.
    await vault.remove(p.keystore, p.bao, p.redis, tenant, shred=policy == "Shred")
    if policy == "Retain":
        return
    await purge_tenant_keys(p.redis, tenant)
    await postgres.remove(p.pool, tenant)
    await kafka.remove(p.topics, p.objects, tenant)
    await keycloak.remove(p.keycloak, tenant.slug)
    await workloads.remove(p.objects, tenant.slug)
    await _unregister(p, tenant)  # again: a reconcile that was running may have re-added it


async def _unregister(p: Platform, tenant: TenantNames) -> None:
    async with p.pool.acquire() as conn:
        await delete_tenant(conn, p.redis, tenant.slug)
