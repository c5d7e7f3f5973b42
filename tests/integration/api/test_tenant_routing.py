"""Which tenant a request is for: host, X-Simptu-Tenant or the token's issuer; disagreement is
403, an unknown tenant 404, a tenant that is not Ready 503 with Retry-After."""

from __future__ import annotations

import uuid

import httpx

from simptu.runtime.api.app import create_app
from simptu.runtime.api.settings import ApiSettings
from tests.conftest import TenantFactory
from tests.integration.api.conftest import BASE_DOMAIN, ApiTenant, TokenFor, client_of
from tests.integration.api.test_behaviour import assert_problem


async def test_tenant_from_host(api: httpx.AsyncClient, tenant_a: ApiTenant) -> None:
    answer = await api.get("/v1/tenant", headers={"Host": tenant_a.host})
    assert answer.status_code == 200, answer.text
    assert answer.json()["slug"] == tenant_a.slug


async def test_tenant_from_header(api: httpx.AsyncClient, tenant_b: ApiTenant) -> None:
    answer = await api.get("/v1/tenant", headers={"X-Simptu-Tenant": tenant_b.slug})
    assert answer.status_code == 200, answer.text
    assert answer.json()["slug"] == tenant_b.slug


async def test_tenant_from_token_issuer(api: httpx.AsyncClient, tenant_b: ApiTenant,
                                        token_for: TokenFor) -> None:
    token = await token_for(tenant_b, "staff")
    answer = await api.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["tenant"] == tenant_b.slug
    assert answer.json()["roles"] == ["staff"]


async def test_host_and_header_disagreeing_is_forbidden(api: httpx.AsyncClient,
                                                         tenant_a: ApiTenant,
                                                         tenant_b: ApiTenant) -> None:
    answer = await api.get("/v1/tenant", headers={"Host": tenant_a.host,
                                                  "X-Simptu-Tenant": tenant_b.slug})
    assert_problem(answer, 403)


async def test_token_of_another_tenant_is_forbidden(api: httpx.AsyncClient,
                                                    tenant_a: ApiTenant, tenant_b: ApiTenant,
                                                    token_for: TokenFor) -> None:
    token = await token_for(tenant_b, "admin")
    for headers in ({"Host": tenant_a.host}, {"X-Simptu-Tenant": tenant_a.slug}):
        answer = await api.get("/v1/me", headers=headers | {"Authorization": f"Bearer {token}"})
        body = assert_problem(answer, 403)
        assert tenant_b.slug not in str(body)


async def test_unknown_tenant_is_not_found(api: httpx.AsyncClient) -> None:
    for headers in ({"Host": f"no-such-tenant.{BASE_DOMAIN}"},
                    {"X-Simptu-Tenant": "no-such-tenant"}, {"X-Simptu-Tenant": "Not A Slug!"}):
        assert_problem(await api.get("/v1/tenant", headers=headers), 404)


async def test_no_tenant_named_is_a_bad_request(api: httpx.AsyncClient) -> None:
    assert_problem(await api.get("/v1/tenant"), 400)


async def test_tenant_not_ready_is_unavailable_with_retry_after(
        api: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    tenant = await make_tenant("p", status="Provisioning")
    answer = await api.get("/v1/tenant", headers={"X-Simptu-Tenant": tenant.slug})
    assert_problem(answer, 503)
    assert int(answer.headers["retry-after"]) > 0


async def test_me_needs_a_token(api: httpx.AsyncClient, tenant_a: ApiTenant) -> None:
    answer = await api.get("/v1/me", headers={"Host": tenant_a.host})
    assert_problem(answer, 401)
    assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_garbage_token_is_unauthorized(api: httpx.AsyncClient, tenant_a: ApiTenant) -> None:
    for authorization in ("Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "Bearer "):
        answer = await api.get("/v1/me", headers={"Host": tenant_a.host,
                                                  "Authorization": authorization})
        assert_problem(answer, 401)


async def test_roles_come_from_the_realm(api: httpx.AsyncClient, tenant_a: ApiTenant,
                                         token_for: TokenFor) -> None:
    for user, role in (("admin", "tenant-admin"), ("staff", "staff"), ("customer", "customer")):
        token = await token_for(tenant_a, user)
        answer = await api.get("/v1/me", headers={"Host": tenant_a.host,
                                                  "Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["roles"] == [role]


async def test_requests_are_rate_limited_per_tenant_and_address(
        api_settings: ApiSettings, tenant_a: ApiTenant, tenant_b: ApiTenant) -> None:
    app = create_app(api_settings.model_copy(update={"api_rate_limit": 3}))
    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    async with app.router.lifespan_context(app), client_of(app, address) as api:
        for _ in range(3):
            assert (await api.get("/v1/tenant", headers={"Host": tenant_a.host})).status_code == 200
        refused = await api.get("/v1/tenant", headers={"Host": tenant_a.host})
        assert_problem(refused, 429)
        assert int(refused.headers["retry-after"]) >= 1
        assert (await api.get("/v1/tenant", headers={"Host": tenant_b.host})).status_code == 200
        async with client_of(app, "198.51.100.77") as other:
            assert (await other.get("/v1/tenant",
                                    headers={"Host": tenant_a.host})).status_code == 200
