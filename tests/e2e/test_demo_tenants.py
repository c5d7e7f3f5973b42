"""What `make up` promises: the demo tenants of examples/tenants/ are Ready, and each
provisioned thing exists in its own system."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import yaml
from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.crypto import OpenBaoTransit
from simptu.runtime.core.events.topics import kafka_admin, tenant_topics
from simptu.runtime.core.tenancy import TenantNames

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
DEMO = sorted(yaml.safe_load(path.read_text())["metadata"]["name"]
              for path in EXAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("slug", DEMO)
async def test_each_demo_tenant_is_ready_everywhere(slug: str, stack: StackEnv,
                                                    kube: k8s.ApiClient,
                                                    db: asyncpg.Pool) -> None:
    tenant = k8s.CustomObjectsApi(kube).get_cluster_custom_object(
        "simptu.io", "v1alpha1", "tenants", slug)
    assert isinstance(tenant, dict)
    assert tenant["status"]["phase"] == "Ready", tenant["status"].get("lastError")
    names = TenantNames(slug)
    assert await db.fetchval("SELECT status FROM platform.tenants WHERE slug = $1", slug) == "Ready"
    assert await db.fetchval("SELECT to_regclass($1)", f"{names.schema}.customers") is not None
    keystore = OpenBaoTransit(stack["BAO_ADDR"], stack["BAO_TOKEN"])
    assert (await keystore.key_info(names.transit_key)).latest_version >= 1
    async with kafka_admin(stack.kafka) as admin:
        assert set(tenant_topics(names)) <= set(await admin.list_topics())
    async with httpx.AsyncClient(timeout=30) as http:
        realm = await http.get(f"{stack['SIMPTU_KEYCLOAK_URL']}/realms/{slug}")
        assert realm.status_code == 200
        # The README's one curl: a demo user's token, carrying the user's role.
        issued = await http.post(
            f"{stack['SIMPTU_KEYCLOAK_URL']}/realms/{slug}/protocol/openid-connect/token",
            data={"grant_type": "password", "client_id": "simptu-web", "username": "staff",
                  "password": "demo"})
    assert issued.status_code == 200, issued.text
    deployment = k8s.AppsV1Api(kube).read_namespaced_deployment("agent", names.namespace)
    assert deployment.metadata is not None
    assert (deployment.metadata.labels or {})["simptu.io/tenant"] == slug


@pytest.mark.parametrize("tenant", [yaml.safe_load(p.read_text()) for p in
                                    sorted(EXAMPLES.glob("*.yaml"))],
                         ids=lambda t: t["metadata"]["name"])
async def test_a_visitor_of_each_demo_tenants_site_gets_a_guest_token(
    tenant: dict[str, Any], stack: StackEnv
) -> None:
    origin = tenant["spec"]["channels"]["web"]["allowedOrigins"][0]
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(f"{stack['SIMPTU_API_URL']}/v1/chat/guest", json={"locale": "ro"},
                                 headers={"X-Simptu-Tenant": tenant["metadata"]["name"],
                                          "Origin": origin})
    assert answer.status_code == 201, answer.text
    assert answer.headers["access-control-allow-origin"] == origin
