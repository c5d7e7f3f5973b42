"""What the hub makes once at start-up and shares between sockets: the core every process
shares (runtime/core/wiring), the conversations' use cases, its own token checks and resume
log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx

from simptu.runtime.core.chat.actions import Conversations
from simptu.runtime.core.oidc import OidcVerifier
from simptu.runtime.core.wiring import Core, open_core
from simptu.runtime.ws.identity import Authenticator
from simptu.runtime.ws.session_log import SessionLog
from simptu.runtime.ws.settings import WsSettings

SOURCE = "/simptu/ws"  # the hub, as the source of the events it writes


@dataclass(frozen=True)
class WsPlatform(Core):
    settings: WsSettings
    conversations: Conversations
    authenticator: Authenticator
    session_log: SessionLog


@asynccontextmanager
async def open_platform(settings: WsSettings) -> AsyncIterator[WsPlatform]:
    """Open every shared resource; close them in reverse order when the block ends."""
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(open_core(
            settings, client_id="simptu-ws", redis_connections=settings.ws_redis_connections))
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=10))
        oidc = OidcVerifier(core.redis, http, audience=settings.token_audience)
        yield WsPlatform(
            **core.parts(), settings=settings,
            conversations=Conversations(core.pool, core.keyring, core.redis, SOURCE,
                                        settings.chat_max_text_chars),
            authenticator=Authenticator(core.registry, oidc,
                                        settings.guest_token_secret.get_secret_value()),
            session_log=SessionLog(core.redis, core.keyring,
                                   max_events=settings.ws_resume_max_events,
                                   ttl=settings.ws_resume_ttl))
