"""The hub's channels, one object per kind of topic, found by the topic's prefix in `CHANNELS`:
`chat:<session_id>` (a conversation: its customer, and staff of its tenant) and `inbox:<slug>`
(the tenant's staff and admins: new conversations, hand-offs, messages to staff and who of the
staff is online). A new kind of topic is one more `Channel`. A join is checked against the
socket's token; a refused join answers an error and subscribes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from simptu.runtime.core.chat.actions import visible_session
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantNotReady, TenantRecord, UnknownTenant
from simptu.runtime.ws.conversation import (
    Refused,
    receive_message,
    refused_as_reply,
    send_function_result,
)
from simptu.runtime.ws.identity import Participant
from simptu.runtime.ws.platform import WsPlatform

INBOX_ROLES = ("tenant-admin", "staff")


@dataclass(frozen=True)
class Route:
    """A topic a participant joined: its kind and the tenant it belongs to."""

    kind: str
    topic: str
    tenant: TenantRecord
    session_id: uuid.UUID | None = None


class Channel(Protocol):
    """A kind of topic: `<kind>:<rest>`."""

    kind: str

    async def join(self, platform: WsPlatform, participant: Participant, rest: str) -> Route:
        """The route if the participant may join `<kind>:<rest>`; `Refused` otherwise."""

    async def handle_in(self, platform: WsPlatform, participant: Participant, route: Route,
                        event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The ok response to a client event on the joined topic; `Refused` otherwise."""


async def _ready_tenant(platform: WsPlatform, slug: str) -> TenantRecord:
    try:
        return await platform.registry.require_ready(slug)
    except UnknownTenant:
        raise Refused("unknown-tenant", f"there is no tenant {slug!r}") from None
    except TenantNotReady as error:
        raise Refused("tenant-not-ready", str(error)) from None


def _no_event(route: Route, event: str) -> Refused:
    return Refused("unknown-event", f"{route.kind} channels take no {event!r} event")


class ChatChannel:
    """A conversation: the customer's messages and answers to the agent's function calls in,
    every message and the agent's streamed replies out."""

    kind = "chat"

    async def join(self, platform: WsPlatform, participant: Participant, rest: str) -> Route:
        try:
            session_id = uuid.UUID(rest)
        except ValueError:
            raise Refused("unknown-session", f"{rest!r} is not a chat session id") from None
        tenant = await _ready_tenant(platform, participant.tenant)
        with refused_as_reply():
            async with TenantUnitOfWork(platform.pool, tenant.names) as conn:
                await visible_session(conn, participant, session_id)
        return Route(self.kind, f"{self.kind}:{rest}", tenant, session_id)

    async def handle_in(self, platform: WsPlatform, participant: Participant, route: Route,
                        event: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert route.session_id is not None
        if event == "message":
            return await receive_message(platform, route.tenant, participant, route.session_id,
                                         payload)
        if event == "function_result":
            return await send_function_result(platform, route.tenant, route.session_id,
                                              payload)
        raise _no_event(route, event)


class InboxChannel:
    """The tenant's staff inbox: pushes only."""

    kind = "inbox"

    async def join(self, platform: WsPlatform, participant: Participant, rest: str) -> Route:
        if rest != participant.tenant:
            raise Refused("forbidden", "the inbox of another tenant")
        if not any(role in participant.roles for role in INBOX_ROLES):
            raise Refused("forbidden", "the inbox is for the tenant's staff and admins")
        return Route(self.kind, f"{self.kind}:{rest}", await _ready_tenant(platform, rest))

    async def handle_in(self, platform: WsPlatform, participant: Participant, route: Route,
                        event: str, payload: dict[str, Any]) -> dict[str, Any]:
        raise _no_event(route, event)


CHANNELS: dict[str, Channel] = {channel.kind: channel
                                for channel in (ChatChannel(), InboxChannel())}


def channel_of(topic: str) -> tuple[Channel, str]:
    """The channel serving `topic`, and the topic past its prefix; `Refused` if none does."""
    kind, _, rest = topic.partition(":")
    channel = CHANNELS.get(kind)
    if channel is None:
        names = " or ".join(f"{name}:…" for name in CHANNELS)
        raise Refused("unknown-topic", f"no channel serves topic {topic!r} ({names})")
    return channel, rest
