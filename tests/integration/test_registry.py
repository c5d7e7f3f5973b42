"""The routing registry: cached reads, instant invalidation on write, typed errors."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
import redis.asyncio as aioredis
from pydantic import ValidationError

from simptu.runtime.core.registry import (
    TenantNotReady,
    TenantRecord,
    TenantRegistry,
    UnknownTenant,
    set_tenant_channels,
    set_tenant_status,
    upsert_tenant,
)
from simptu.runtime.core.tenancy import TenantNames

MakeTenant = Callable[..., Awaitable[TenantNames]]


@pytest.fixture
def registry(db: asyncpg.Pool, redis_client: aioredis.Redis) -> TenantRegistry:
    return TenantRegistry(db, redis_client, ttl=60)


async def test_a_ready_tenant_is_found_with_its_names(registry: TenantRegistry,
                                                      make_tenant: MakeTenant) -> None:
    tenant = await make_tenant(business_type="gym")
    record = await registry.require_ready(tenant.slug)
    assert (record.business_type, record.schema_name, record.transit_key) == (
        "gym", tenant.schema, tenant.transit_key)
    assert record.names == tenant


async def test_reads_are_cached_until_the_operator_writes(
    registry: TenantRegistry, db: asyncpg.Pool, redis_client: aioredis.Redis,
    make_tenant: MakeTenant,
) -> None:
    tenant = await make_tenant()
    record = await registry.get(tenant.slug)
    # A change that bypasses the writer is not seen while the cache holds the entry...
    await db.execute("UPDATE platform.tenants SET display_name = 'Bypass' WHERE slug = $1",
                     tenant.slug)
    assert (await registry.get(tenant.slug)).display_name == ""
    # ...while a write through the operator's function is seen at once.
    async with db.acquire() as conn:
        await upsert_tenant(conn, redis_client, record.model_copy(
            update={"display_name": "Dr. Ionescu Dental"}))
    assert (await registry.get(tenant.slug)).display_name == "Dr. Ionescu Dental"


async def test_a_record_kept_in_memory_is_at_most_memory_ttl_stale(
    db: asyncpg.Pool, redis_client: aioredis.Redis, make_tenant: MakeTenant,
) -> None:
    registry = TenantRegistry(db, redis_client, ttl=60, memory_ttl=0.3)
    tenant = await make_tenant()
    await registry.get(tenant.slug)
    async with db.acquire() as conn:
        await set_tenant_status(conn, redis_client, tenant.slug, "Suspended")
    assert (await registry.get(tenant.slug)).status == "Ready"  # this process's copy
    await asyncio.sleep(0.35)
    assert (await registry.get(tenant.slug)).status == "Suspended"


async def test_unknown_and_not_ready_tenants_are_typed_errors(
    registry: TenantRegistry, db: asyncpg.Pool, redis_client: aioredis.Redis,
    make_tenant: MakeTenant, unique: str,
) -> None:
    with pytest.raises(UnknownTenant, match=f"unknown tenant '{unique}-nobody'"):
        await registry.get(f"{unique}-nobody")
    tenant = await make_tenant(status="Provisioning")
    with pytest.raises(TenantNotReady) as not_ready:
        await registry.require_ready(tenant.slug)
    assert not_ready.value.status == "Provisioning"
    async with db.acquire() as conn:
        await set_tenant_status(conn, redis_client, tenant.slug, "Ready")
    assert (await registry.require_ready(tenant.slug)).status == "Ready"
    async with db.acquire() as conn:
        await set_tenant_status(conn, redis_client, tenant.slug, "Suspended")
    with pytest.raises(TenantNotReady, match="is Suspended"):
        await registry.require_ready(tenant.slug)


async def test_a_channel_identifier_finds_its_tenant(
    registry: TenantRegistry, db: asyncpg.Pool, make_tenant: MakeTenant
) -> None:
    clinic, hotel = await make_tenant("clinic"), await make_tenant("hotel", "hotel")
    async with db.acquire() as conn:
        await set_tenant_channels(conn, clinic.slug, {"whatsapp": [b"\x01" * 32]})
        await set_tenant_channels(conn, hotel.slug, {"whatsapp": [b"\x02" * 32],
                                                     "email": [b"\x03" * 32]})
    assert (await registry.by_channel("whatsapp", b"\x02" * 32)).slug == hotel.slug
    assert (await registry.by_channel("whatsapp", b"\x01" * 32)).slug == clinic.slug
    with pytest.raises(UnknownTenant):
        await registry.by_channel("sms", b"\x01" * 32)


async def test_a_channel_owner_kept_in_memory_is_at_most_memory_ttl_stale(
    db: asyncpg.Pool, redis_client: aioredis.Redis, make_tenant: MakeTenant,
) -> None:
    registry = TenantRegistry(db, redis_client, ttl=60, memory_ttl=0.3)
    clinic = await make_tenant("clinic")
    known, added = secrets.token_bytes(32), secrets.token_bytes(32)
    async with db.acquire() as conn:
        await set_tenant_channels(conn, clinic.slug, {"whatsapp": [known]})
    assert (await registry.by_channel("whatsapp", known)).slug == clinic.slug
    with pytest.raises(UnknownTenant):
        await registry.by_channel("whatsapp", added)
    async with db.acquire() as conn:  # a miss is never kept: an id added now is found at once
        await set_tenant_channels(conn, clinic.slug, {"whatsapp": [added]})
    assert (await registry.by_channel("whatsapp", added)).slug == clinic.slug
    # The removed id is honoured at most memory_ttl more (how long it still is, load decides).
    await asyncio.sleep(0.35)
    with pytest.raises(UnknownTenant):
        await registry.by_channel("whatsapp", known)


def test_a_record_with_a_bad_slug_is_refused() -> None:
    with pytest.raises(ValidationError, match="must be a DNS label"):
        TenantRecord(slug="Bad_Slug", status="Ready", business_type="gym",
                     schema_name="t_bad", transit_key="tenant-bad")
