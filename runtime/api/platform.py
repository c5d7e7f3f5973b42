"""What the API makes once at start-up and shares between requests: the core every process
shares (runtime/core/wiring), and its own token verifier, rate limiters, the process's copies of
history pages and the Keycloak admin client of invitations; and the periodic chores it runs in
the background (runtime/core/housekeeping)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx

from simptu.runtime.api.settings import ApiSettings
from simptu.runtime.channels.meta.webhook import MetaWebhook
from simptu.runtime.channels.twilio.voice import VoiceCalls
from simptu.runtime.channels.twilio.webhook import TwilioWebhooks
from simptu.runtime.core import background
from simptu.runtime.core.channels.accounts import ChannelAccounts
from simptu.runtime.core.channels.routing import RegistryIndex
from simptu.runtime.core.chat.actions import Conversations
from simptu.runtime.core.chat.events import API_SOURCE
from simptu.runtime.core.housekeeping import keep_house
from simptu.runtime.core.keycloak_admin import KeycloakAdmin
from simptu.runtime.core.near_cache import NearCache
from simptu.runtime.core.oidc import OidcVerifier
from simptu.runtime.core.rate_limit import RateLimiter
from simptu.runtime.core.synced_rate_limit import SyncedRateLimiter
from simptu.runtime.core.wiring import Core, open_core


@dataclass(frozen=True)
class ApiPlatform(Core):
    settings: ApiSettings
    conversations: Conversations
    oidc: OidcVerifier
    guest_limiter: RateLimiter
    request_limiter: SyncedRateLimiter
    # This process's copies of hot history pages; None when turned off.
    near_cache: NearCache | None
    access_code_limiter: RateLimiter
    # Codes asked for by SMS: a budget of their own, so asking never uses up redeeming.
    access_code_request_limiter: RateLimiter
    # None when no realm secret key is set: invitations cannot be accepted then.
    keycloak: KeycloakAdmin | None
    meta_webhook: MetaWebhook
    twilio_webhooks: TwilioWebhooks
    voice_calls: VoiceCalls


@asynccontextmanager
async def open_platform(settings: ApiSettings) -> AsyncIterator[ApiPlatform]:
    """Open every shared resource; close them in reverse order when the block ends."""
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(open_core(settings, client_id="simptu-api"))
        redis = core.redis
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=10))
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
            chores = asyncio.create_task(keep_house(core.pool,
                                                    settings.api_housekeeping_interval))
            stack.push_async_callback(background.stop, chores)  # before the pool closes
        conversations = Conversations(core.pool, core.keyring, redis, API_SOURCE,
                                      settings.chat_max_text_chars, near_cache)
        index = RegistryIndex(core.keystore)
        accounts = ChannelAccounts(core.pool, core.keyring, settings.channel_credentials_ttl)
        twilio = TwilioWebhooks(core.registry, index, accounts, conversations,
                                settings.public_base_url)
        yield ApiPlatform(
            **core.parts(), settings=settings, conversations=conversations,
            oidc=OidcVerifier(redis, http, audience=settings.token_audience,
                              cache_ttl=settings.api_jwks_cache_ttl,
                              refetch_interval=settings.api_jwks_refetch_interval),
            guest_limiter=RateLimiter(redis, "guest-token", settings.api_guest_rate_limit,
                                      settings.api_guest_rate_window),
            request_limiter=request_limiter, near_cache=near_cache,
            access_code_limiter=RateLimiter(redis, "access-code",
                                            settings.api_access_code_rate_limit,
                                            settings.api_access_code_rate_window),
            access_code_request_limiter=RateLimiter(redis, "access-code-request",
                                                    settings.api_access_code_rate_limit,
                                                    settings.api_access_code_rate_window),
            keycloak=keycloak,
            meta_webhook=MetaWebhook(
                core.registry, index, accounts, conversations,
                settings.meta_app_secret.get_secret_value(),
                settings.meta_verify_token.get_secret_value()),
            twilio_webhooks=twilio, voice_calls=VoiceCalls(twilio, settings.api_voice_reply_wait))
