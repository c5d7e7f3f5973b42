"""Platform admin views of the routing registry: every tenant for a `platform-admin`, paged by
cursor, and nothing for anyone else."""

from __future__ import annotations

import contextlib

import httpx
import pytest

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.keycloak_admin import KeycloakAdmin, UserExists, create_user
from tests.integration.api.conftest import ApiTenant, TokenFor, UserHeaders

PLATFORM_ADMIN = "platform"  # a user of tenant A's realm with the platform-admin role


@pytest.fixture(scope="session")
async def platform_admin(stack: StackEnv, tenant_a: ApiTenant) -> str:
    admin = KeycloakAdmin.from_environment(stack.values)
    user = {"username": PLATFORM_ADMIN, "enabled": True, "emailVerified": True,
            "email": f"{PLATFORM_ADMIN}@{tenant_a.slug}.example", "firstName": "Platform",
            "lastName": "Admin",
            "credentials": [{"type": "password", "value": "demo", "temporary": False}]}
    with contextlib.suppress(UserExists):
        await create_user(admin, tenant_a.slug, user, ["platform-admin"])
    await admin.aclose()
    return PLATFORM_ADMIN


async def test_a_platform_admin_pages_through_every_registered_tenant(
    api: httpx.AsyncClient, tenant_a: ApiTenant, tenant_b: ApiTenant, token_for: TokenFor,
    platform_admin: str,
) -> None:
    headers = {"Host": tenant_a.host,
               "Authorization": f"Bearer {await token_for(tenant_a, platform_admin)}"}
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", "status": "Ready"} | ({"cursor": cursor} if cursor else {})
        page = await api.get("/v1/admin/tenants", params=params, headers=headers)
        assert page.status_code == 200, page.text
        seen += [item["slug"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(set(seen))  # in slug order, none twice
    assert {tenant_a.slug, tenant_b.slug} <= set(seen)

    one = await api.get(f"/v1/admin/tenants/{tenant_b.slug}", headers=headers)
    assert one.status_code == 200
    assert one.json()["web_origins"] == [tenant_b.origin]
    assert (await api.get("/v1/admin/tenants/no-such-tenant", headers=headers)).status_code == 404


@pytest.mark.parametrize("user", ["admin", "staff", "customer"])
async def test_no_one_else_sees_the_tenants(api: httpx.AsyncClient, tenant_a: ApiTenant,
                                            as_user: UserHeaders, user: str) -> None:
    headers = await as_user(tenant_a, user)
    for path in ("/v1/admin/tenants", f"/v1/admin/tenants/{tenant_a.slug}"):
        answer = await api.get(path, headers=headers)
        assert answer.status_code == 403, f"{user}: {path}: {answer.status_code}"
