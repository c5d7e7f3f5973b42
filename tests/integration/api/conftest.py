"""Fixtures of the API tests: two tenants provisioned the way the operator does (schema,
migrations, keys, a Keycloak realm with the demo users, a registry row with issuer and web
origins), the API app on the real stack, real tokens from the tenants' realms, and tenant A's
demo dental catalogue with free slots to book."""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from simptu.devstack.demo_tokens import demo_token
from simptu.devstack.envfile import StackEnv
from simptu.operator import keycloak
from simptu.runtime.api.app import create_app
from simptu.runtime.api.settings import ApiSettings
from simptu.runtime.core.bookings import availability, catalogue, list_resources, list_services
from simptu.runtime.core.bookings.demo import seed_demo_catalogue
from simptu.runtime.core.crypto import OpenBaoTransit, ensure_data_key
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.migrations import migrate_tenant
from simptu.runtime.core.registry import TenantRecord, delete_tenant, upsert_tenant
from simptu.runtime.core.schemas import drop_tenant_schema, ensure_tenant_schema
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames
from simptu.runtime.core.tenant_cache import TenantCache

BASE_DOMAIN = "simptu.test"
TIMEZONE = "Europe/Bucharest"


@dataclass(frozen=True)
class ApiTenant:
    names: TenantNames
    issuer: str
    origin: str

    @property
    def slug(self) -> str:
        return self.names.slug

    @property
    def host(self) -> str:
        return f"{self.slug}.{BASE_DOMAIN}"


TokenFor = Callable[[ApiTenant, str], Awaitable[str]]


@pytest.fixture(scope="session")
async def keycloak_admin_client(stack: StackEnv) -> AsyncIterator[keycloak.KeycloakAdmin]:
    admin = keycloak.KeycloakAdmin.from_environment(stack.values)
    yield admin
    await admin.aclose()


async def _provision(conn: asyncpg.Connection, redis: aioredis.Redis, transit: OpenBaoTransit,
                     admin: keycloak.KeycloakAdmin, slug: str) -> ApiTenant:
    names = TenantNames(slug)
    origin = f"https://{slug}.example"
    issuer = await keycloak.ensure(admin, keycloak.RealmSpec(
        slug=slug, display_name=f"Test {slug}", allowed_origins=(origin,),
        direct_access_grants=True, demo_users=True, password_policy=""))
    await ensure_tenant_schema(conn, names)
    await migrate_tenant(conn, names)
    await ensure_data_key(conn, transit, names)
    await upsert_tenant(conn, redis, TenantRecord(
        slug=slug, status="Ready", business_type="dental-clinic", display_name=f"Test {slug}",
        schema_name=names.schema, transit_key=names.transit_key, auth_issuer=issuer,
        web_origins=[origin], locale="ro", timezone=TIMEZONE))
    return ApiTenant(names, issuer, origin)


@pytest.fixture(scope="session")
async def api_tenants(db: asyncpg.Pool, redis_client: aioredis.Redis,
                      core_settings: CoreSettings,
                      keycloak_admin_client: keycloak.KeycloakAdmin,
                      ) -> AsyncIterator[tuple[ApiTenant, ApiTenant]]:
    """Tenants A and B, Ready, each with its realm; everything is removed afterwards."""
    transit = OpenBaoTransit.from_settings(core_settings)
    prefix = f"api{uuid.uuid4().hex[:8]}"
    made: list[ApiTenant] = []
    try:
        async with db.acquire() as conn:
            for suffix in ("a", "b"):
                made.append(await _provision(conn, redis_client, transit, keycloak_admin_client,
                                             f"{prefix}-{suffix}"))
        yield made[0], made[1]
    finally:
        async with db.acquire() as conn:
            for tenant in made:
                await delete_tenant(conn, redis_client, tenant.slug)
                await drop_tenant_schema(conn, tenant.names)
                await transit.destroy_key(tenant.names.transit_key)
                await keycloak.remove(keycloak_admin_client, tenant.slug)


@pytest.fixture(scope="session")
def tenant_a(api_tenants: tuple[ApiTenant, ApiTenant]) -> ApiTenant:
    return api_tenants[0]


@pytest.fixture(scope="session")
def tenant_b(api_tenants: tuple[ApiTenant, ApiTenant]) -> ApiTenant:
    return api_tenants[1]


@pytest.fixture(scope="session")
def api_settings(core_settings: CoreSettings, stack: StackEnv) -> ApiSettings:
    return ApiSettings.model_validate(
        core_settings.model_dump() | {
            "keycloak_url": stack["SIMPTU_KEYCLOAK_URL"],
            "keycloak_realm_secret_key": stack["SIMPTU_KEYCLOAK_REALM_SECRET_KEY"],
            "api_base_domain": BASE_DOMAIN,
            "guest_token_secret": secrets.token_urlsafe(40),
            "api_guest_rate_limit": 3, "api_max_body_bytes": 4096})


@pytest.fixture(scope="session")
async def api_app(api_settings: ApiSettings) -> AsyncIterator[FastAPI]:
    """The API application with its lifespan running (pool, Redis, Kafka producer, ...)."""
    app = create_app(api_settings)
    async with app.router.lifespan_context(app):
        yield app


def client_of(app: FastAPI, address: str = "192.0.2.10") -> httpx.AsyncClient:
    """An HTTP client of the app as seen from client `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://api.test", timeout=30)


@pytest.fixture
async def api(api_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(api_app) as client:
        yield client


@pytest.fixture(scope="session")
async def token_for(stack: StackEnv) -> AsyncIterator[TokenFor]:
    """A real access token of a demo user (`admin`, `staff`, `customer`) of a tenant's realm."""
    cache: dict[tuple[str, str], tuple[str, float]] = {}
    async with httpx.AsyncClient(timeout=30) as http:
        async def token(tenant: ApiTenant, user: str) -> str:
            cached, fresh_until = cache.get((tenant.slug, user), ("", 0.0))
            if time.monotonic() < fresh_until:
                return cached
            body = await demo_token(http, tenant.issuer, user)
            # Reused while it has a minute left, so a slow test never holds an expired one.
            cache[tenant.slug, user] = (body["access_token"],
                                        time.monotonic() + body["expires_in"] - 60)
            return str(body["access_token"])
        yield token


UserHeaders = Callable[[ApiTenant, str], Awaitable[dict[str, str]]]


@pytest.fixture
def as_user(token_for: TokenFor) -> UserHeaders:
    """The headers of a demo user's request to a tenant (by host, with a real token)."""
    async def headers(tenant: ApiTenant, user: str) -> dict[str, str]:
        return {"Host": tenant.host, "Authorization": f"Bearer {await token_for(tenant, user)}"}
    return headers


@dataclass
class BookableSlots:
    """Tenant A's demo dental catalogue and free Consultation starts with Dr. Ana Popescu that
    do not overlap one another, each handed to one test only."""

    consultation: uuid.UUID
    cleaning: uuid.UUID
    dr_ana: uuid.UUID
    dr_mihai: uuid.UUID
    starts: list[dt.datetime]

    def take(self) -> dt.datetime:
        return self.starts.pop(0)


@pytest.fixture(scope="session")
async def bookable(db: asyncpg.Pool, redis_client: aioredis.Redis,
                   tenant_a: ApiTenant) -> BookableSlots:
    async with TenantUnitOfWork(db, tenant_a.names) as conn:
        await seed_demo_catalogue(conn, "dental-clinic")
    # Written behind the API's back: its cached catalogue reads are stale now.
    await TenantCache(redis_client, tenant_a.names).invalidate_collections(
        catalogue.CACHE_COLLECTION)
    async with TenantUnitOfWork(db, tenant_a.names) as conn:
        services = {s.name: s.id for s in await list_services(conn)}
        resources = {r.name: r.id for r in await list_resources(conn)}
        first = dt.date.today() + dt.timedelta(days=2)
        slots = await availability(conn, services["Consultation"], resources["Dr. Ana Popescu"],
                                   first, first + dt.timedelta(days=60), ZoneInfo(TIMEZONE))
    # A consultation takes 30 minutes: starts on the hour and half hour never overlap.
    return BookableSlots(services["Consultation"], services["Cleaning"],
                         resources["Dr. Ana Popescu"], resources["Dr. Mihai Ionescu"],
                         [slot.start for slot in slots if slot.start.minute in (0, 30)])
