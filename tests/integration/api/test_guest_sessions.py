"""`POST /v1/chat/guest`: guest tokens bound to one tenant and one new chat session, only for
the tenant's web origins (CORS per tenant), rate-limited per tenant and client address."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from simptu.runtime.api.settings import ApiSettings
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.guest_tokens import verify_guest_token
from simptu.runtime.core.oidc import InvalidToken
from tests.integration.api.conftest import ApiTenant, client_of
from tests.integration.api.test_behaviour import assert_problem


async def guest_sessions(db: asyncpg.Pool, tenant: ApiTenant) -> int:
    async with TenantUnitOfWork(db, tenant.names) as conn:
        count: int = await conn.fetchval("SELECT count(*) FROM chat_sessions WHERE guest")
        return count


async def test_an_allowed_origin_gets_a_token_for_a_new_session(
        api_app: FastAPI, api_settings: ApiSettings, db: asyncpg.Pool,
        tenant_a: ApiTenant) -> None:
    async with client_of(api_app, "198.51.100.1") as api:
        answer = await api.post("/v1/chat/guest", json={"locale": "ro"},
                                headers={"Host": tenant_a.host, "Origin": tenant_a.origin})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    claims = verify_guest_token(api_settings.guest_token_secret.get_secret_value(),
                                body["token"])
    assert claims.tenant == tenant_a.slug
    assert str(claims.session_id) == body["session_id"]
    assert claims.may_join(tenant_a.slug, f"chat:{body['session_id']}")
    assert answer.headers["access-control-allow-origin"] == tenant_a.origin
    async with TenantUnitOfWork(db, tenant_a.names) as conn:
        row = await conn.fetchrow("SELECT * FROM chat_sessions WHERE id = $1",
                                  uuid.UUID(body["session_id"]))
    assert row is not None
    assert (row["channel"], row["status"], row["guest"], row["locale"]) == (
        "web", "open", True, "ro")


async def test_the_tenant_may_come_from_the_header(api_app: FastAPI, tenant_b: ApiTenant) -> None:
    async with client_of(api_app, "198.51.100.2") as api:
        answer = await api.post("/v1/chat/guest", json={"locale": "en"},
                                headers={"X-Simptu-Tenant": tenant_b.slug,
                                         "Origin": tenant_b.origin})
    assert answer.status_code == 201, answer.text


async def test_another_origin_gets_no_token_and_creates_nothing(
        api_app: FastAPI, db: asyncpg.Pool, tenant_a: ApiTenant, tenant_b: ApiTenant) -> None:
    before = await guest_sessions(db, tenant_a)
    async with client_of(api_app, "198.51.100.3") as api:
        for headers in ({"Origin": tenant_b.origin}, {"Origin": "https://evil.example"}, {}):
            answer = await api.post("/v1/chat/guest", json={"locale": "ro"},
                                    headers={"Host": tenant_a.host} | headers)
            assert_problem(answer, 403)
            assert "access-control-allow-origin" not in answer.headers
    assert await guest_sessions(db, tenant_a) == before


async def test_guest_tokens_are_rate_limited_per_tenant_and_address(
        api_app: FastAPI, api_settings: ApiSettings, tenant_a: ApiTenant,
        tenant_b: ApiTenant) -> None:
    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"

    async def ask(tenant: ApiTenant, client: str) -> httpx.Response:
        async with client_of(api_app, client) as api:
            return await api.post("/v1/chat/guest", json={"locale": "ro"},
                                  headers={"Host": tenant.host, "Origin": tenant.origin})

    for _ in range(api_settings.api_guest_rate_limit):
        assert (await ask(tenant_a, address)).status_code == 201
    refused = await ask(tenant_a, address)
    assert_problem(refused, 429)
    assert int(refused.headers["retry-after"]) >= 1
    assert (await ask(tenant_b, address)).status_code == 201
    assert (await ask(tenant_a, "198.51.100.99")).status_code == 201


async def test_a_guest_token_is_refused_when_altered_or_signed_elsewhere(
        api_app: FastAPI, api_settings: ApiSettings, tenant_a: ApiTenant) -> None:
    secret = api_settings.guest_token_secret.get_secret_value()
    async with client_of(api_app, "198.51.100.4") as api:
        token = (await api.post("/v1/chat/guest", json={"locale": "ro"},
                                headers={"Host": tenant_a.host,
                                         "Origin": tenant_a.origin})).json()["token"]
    header, payload, signature = token.split(".")
    with pytest.raises(InvalidToken):
        verify_guest_token(secret, f"{header}.{payload}.{signature[::-1]}")
    with pytest.raises(InvalidToken):
        verify_guest_token("another-platform-secret-of-enough-length", token)


async def test_a_guest_token_is_a_caller_of_its_own_tenant_only(
        api_app: FastAPI, tenant_a: ApiTenant, tenant_b: ApiTenant) -> None:
    async with client_of(api_app, "198.51.100.5") as api:
        body = (await api.post("/v1/chat/guest", json={"locale": "ro"},
                               headers={"Host": tenant_a.host, "Origin": tenant_a.origin})).json()
        bearer = {"Authorization": f"Bearer {body['token']}"}
        me = await api.get("/v1/me", headers=bearer)
        assert me.status_code == 200, me.text
        assert me.json() == {"tenant": tenant_a.slug, "subject": f"guest:{body['session_id']}",
                             "roles": []}
        assert_problem(await api.get("/v1/me", headers=bearer | {"Host": tenant_b.host}), 403)


async def test_preflight_from_an_allowed_origin_is_answered(api: httpx.AsyncClient,
                                                            tenant_a: ApiTenant) -> None:
    answer = await api.options("/v1/chat/guest", headers={
        "Host": tenant_a.host, "Origin": tenant_a.origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == tenant_a.origin
    assert "POST" in answer.headers["access-control-allow-methods"]


async def test_preflight_from_another_origin_is_refused(api: httpx.AsyncClient,
                                                        tenant_a: ApiTenant,
                                                        tenant_b: ApiTenant) -> None:
    answer = await api.options("/v1/chat/guest", headers={
        "Host": tenant_a.host, "Origin": tenant_b.origin,
        "Access-Control-Request-Method": "POST"})
    assert_problem(answer, 403)
    assert "access-control-allow-origin" not in answer.headers
