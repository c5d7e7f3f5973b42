"""Each tenant's agent pod logs in to Postgres as its own login (the Secret `agent-postgres`):
from inside tenant A's pod, A's schema works directly and through PgBouncer; B's schema, `SET
ROLE` to B, the platform's tables and other tenants' registry rows are refused by Postgres'
permission error; the platform's database URL is nowhere in A's namespace."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv
from simptu.devstack.services.operator import demo_slugs
from simptu.operator import database_login
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.credentials.postgres_login_pods import delivered_login, probe
from tests.integration.credentials.redis_acl_pods import (
    TENANTS,
    namespace_text,
    ready_agent_pod,
    until,
)

REFUSED = "InsufficientPrivilegeError"  # Postgres' "permission denied" (SQLSTATE 42501)
PROVISIONING = 420.0  # a failsafe on the wait for the demo tenants' pods, never an assertion


async def _pod(kube: k8s.ApiClient, slug: str) -> k8s.V1Pod:
    await asyncio.wait_for(until(lambda: ready_agent_pod(kube, slug) is not None), PROVISIONING)
    pod = ready_agent_pod(kube, slug)
    assert pod is not None
    return pod


async def test_an_agent_pod_reaches_its_own_schema_only(kube: k8s.ApiClient,
                                                         stack: StackEnv) -> None:
    a, b = (TenantNames(slug) for slug in demo_slugs()[:2])
    found = probe(stack, await _pod(kube, a.slug), a, b)
    assert found["user"].startswith(database_login.login_prefix(a)), found
    assert found["direct"].isdigit(), found
    assert found["pooler"].isdigit(), found  # PgBouncer accepts the tenant's own login
    assert found["as_tenant"] == a.role, found
    assert found["registry"] == a.slug, found  # its own registry row, no other tenant's
    for refused in ("other_schema", "other_role", "other_via_pooler", "channels", "faults",
                    "pooler_lookup", "registry_write"):
        assert found[refused] == REFUSED, (refused, found)


def test_the_tenant_says_which_login_its_agent_holds(kube: k8s.ApiClient) -> None:
    slug = demo_slugs()[0]
    tenant = k8s.CustomObjectsApi(kube).get_cluster_custom_object(*TENANTS, slug)
    database = next(c for c in tenant["status"]["conditions"] if c["type"] == "DatabaseReady")
    login = delivered_login(kube, slug)
    assert login is not None
    assert database["status"] == "True"
    assert f"the agent logs in as {login[0]} (Secret agent-postgres)" in database["message"]


async def test_the_platform_database_url_is_nowhere_in_a_tenants_namespace(
        kube: k8s.ApiClient, stack: StackEnv) -> None:
    slug = demo_slugs()[0]
    platform = urlsplit(stack.database_url)
    assert platform.password
    text = namespace_text(kube, stack, await _pod(kube, slug))
    assert database_login.login_prefix(TenantNames(slug)) in text  # the pod's own login
    assert stack.database_url not in text
    assert platform.password not in text
