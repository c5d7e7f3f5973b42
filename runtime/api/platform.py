"""What the API makes once at start-up and shares between requests: the database pool, Redis,
the Kafka producer, the registry, the token verifier, the key ring, the rate limiters, the
process's copies of history pages and the Keycloak admin client of invitations; and the
periodic chores it runs in the background (runtime/core/housekeeping)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import asyncpg
import httpx
import redis.asyncio as aioredis

from simptu.runtime.api.settings import ApiSettings
from simptu.runtime.core import background
from simptu.runtime.core.crypto import KeyRing, OpenBaoTransit
from simptu.runtime.core.database import create_pool
from simptu.runtime.core.events import EventProducer
from simptu.runtime.core.housekeeping import keep_house
from simptu.runtime.core.keycloak_admin import KeycloakAdmin
from simptu.runtime.core.near_cache import NearCache
from simptu.runtime.core.oidc import OidcVerifier
from simptu.runtime.core.rate_limit import RateLimiter
from simptu.runtime.core.redis_client import connect_redis
from simptu.runtime.core.registry import TenantRegistry
from simptu.runtime.core.synced_rate_limit import SyncedRateLimiter


@dataclass(frozen=True)
class ApiPlatform:
    settings: ApiSettings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    producer: EventProducer
    registry: TenantRegistry
    oidc: OidcVerifier
    keyring: KeyRing
    guest_limiter: RateLimiter
    request_limiter: SyncedRateLimiter
    # This process's copies of hot history pages; None when turned off.
    near_cache: NearCache | None
    access_code_limiter: RateLimiter
    # None when no realm secret key is set: invitations cannot be accepted then.
    keycloak: KeycloakAdmin | None


@asynccontextmanager
async def open_platform(settings: ApiSettings) -> AsyncIterator[ApiPlatform]:
    """Open every shared resource; close them in reverse order when the block ends."""
    async with AsyncExitStack() as stack:
        pool = await create_pool(settings)
        stack.push_async_callback(pool.close)
        redis = connect_redis(settings.redis_url.get_secret_value())
        stack.push_async_callback(redis.aclose)
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=10))
        producer = await stack.enter_async_context(
            EventProducer(settings.kafka_bootstrap, client_id="simptu-api"))
        keyring = await stack.enter_async_context(
            KeyRing(pool, OpenBaoTransit.from_settings(settings), redis))
        keycloak = None
        if settings.keycloak_realm_secret_key.get_secret_value():
            # No master credentials: realm-local logins only (see ApiSettings).
            keycloak = KeycloakAdmin(settings.keycloak_url, "", "",
                                     secret_key=settings.keycloak_realm_secret_key
                                     .get_secret_value(), attempts=2)
            stack.push_async_callback(keycloak.aclose)
        # Checked on every request: decided in memory, shared through Redis (see its module).
        request_limiter = SyncedRateLimiter(redis, "request", settings.api_rate_limit,
                                            settings.api_rate_window,
                                            settings.api_rate_sync_interval)
        stack.push_async_callback(request_limiter.aclose)  # before Redis closes
        near_cache = None
        if settings.api_history_cache and settings.api_history_local_pages:
            near_cache = NearCache(settings.redis_url.get_secret_value(),
                                   max_entries=settings.api_history_local_pages,
                                   ttl=settings.api_hot_read_ttl)
            await near_cache.start()
            stack.push_async_callback(near_cache.aclose)
        if settings.api_housekeeping_interval:
            chores = asyncio.create_task(keep_house(pool, settings.api_housekeeping_interval))
            stack.push_async_callback(background.stop, chores)  # before the pool closes
        yield ApiPlatform(
            settings=settings, pool=pool, redis=redis, producer=producer,
            registry=TenantRegistry(pool, redis, ttl=settings.registry_cache_ttl,
                                    memory_ttl=settings.registry_memory_ttl),
            oidc=OidcVerifier(redis, http, audience=settings.api_audience,
                              cache_ttl=settings.api_jwks_cache_ttl,
                              refetch_interval=settings.api_jwks_refetch_interval),
            keyring=keyring,
            guest_limiter=RateLimiter(redis, "guest-token", settings.api_guest_rate_limit,
                                      settings.api_guest_rate_window),
            request_limiter=request_limiter, near_cache=near_cache,
            access_code_limiter=RateLimiter(redis, "access-code",
                                            settings.api_access_code_rate_limit,
                                            settings.api_access_code_rate_window),
            keycloak=keycloak)

