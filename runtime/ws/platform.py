"""What the hub makes once at start-up and shares between sockets: the database pool, Redis,
the Kafka producer, the registry, the token checks and the key ring."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import asyncpg
import httpx
import redis.asyncio as aioredis

from simptu.runtime.core.crypto import KeyRing, OpenBaoTransit
from simptu.runtime.core.database import create_pool
from simptu.runtime.core.events import EventProducer
from simptu.runtime.core.oidc import OidcVerifier
from simptu.runtime.core.redis_client import connect_redis
from simptu.runtime.core.registry import TenantRegistry
from simptu.runtime.ws.identity import Authenticator
from simptu.runtime.ws.session_log import SessionLog
from simptu.runtime.ws.settings import WsSettings


@dataclass(frozen=True)
class WsPlatform:
    settings: WsSettings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    producer: EventProducer
    registry: TenantRegistry
    keyring: KeyRing
    authenticator: Authenticator
    session_log: SessionLog


@asynccontextmanager
async def open_platform(settings: WsSettings) -> AsyncIterator[WsPlatform]:
    """Open every shared resource; close them in reverse order when the block ends."""
    async with AsyncExitStack() as stack:
        pool = await create_pool(settings)
        stack.push_async_callback(pool.close)
        redis = connect_redis(settings.redis_url.get_secret_value(),
                              max_connections=settings.ws_redis_connections)
        stack.push_async_callback(redis.aclose)
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=10))
        producer = await stack.enter_async_context(
            EventProducer(settings.kafka_bootstrap, client_id="simptu-ws"))
        keyring = await stack.enter_async_context(
            KeyRing(pool, OpenBaoTransit.from_settings(settings), redis))
        registry = TenantRegistry(pool, redis, ttl=settings.registry_cache_ttl,
                                  memory_ttl=settings.registry_memory_ttl)
        oidc = OidcVerifier(redis, http, audience=settings.ws_audience)
        yield WsPlatform(
            settings=settings, pool=pool, redis=redis, producer=producer, registry=registry,
            keyring=keyring,
            authenticator=Authenticator(registry, oidc,
                                        settings.ws_guest_token_secret.get_secret_value()),
            session_log=SessionLog(redis, keyring, max_events=settings.ws_resume_max_events,
                                   ttl=settings.ws_resume_ttl))
