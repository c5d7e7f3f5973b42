"""The two kinds of channel: `chat:<session_id>` (a conversation: its customer, and staff of
its tenant) and `inbox:<slug>` (the tenant's staff and admins: new conversations, hand-off
requests and who of the staff is online). A join is checked against the socket's token; a
refused join answers an error and subscribes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantNotReady, TenantRecord, UnknownTenant
from simptu.runtime.ws.conversation import (
    Refused,
    receive_message,
    send_function_result,
    visible_session,
)
from simptu.runtime.ws.identity import Participant
from simptu.runtime.ws.platform import WsPlatform

INBOX_ROLES = ("tenant-admin", "staff")


@dataclass(frozen=True)
class Route:
    """A topic a participant may join: its kind and the tenant it belongs to."""

    kind: str
    topic: str
    tenant: TenantRecord
    session_id: uuid.UUID | None = None


async def _ready_tenant(platform: WsPlatform, slug: str) -> TenantRecord:
    try:
        return await platform.registry.require_ready(slug)
    except UnknownTenant:
        raise Refused("unknown-tenant", f"there is no tenant {slug!r}") from None
    except TenantNotReady as error:
        raise Refused("tenant-not-ready", str(error)) from None


async def authorize_join(platform: WsPlatform, participant: Participant, topic: str) -> Route:
    """The route of `topic` if the participant may join it; `Refused` with the reason else."""
    kind, _, rest = topic.partition(":")
    if kind == "chat":
        try:
            session_id = uuid.UUID(rest)
        except ValueError:
            raise Refused("unknown-session", f"{rest!r} is not a chat session id") from None
        tenant = await _ready_tenant(platform, participant.tenant)
        async with TenantUnitOfWork(platform.pool, tenant.names) as conn:
            await visible_session(conn, participant, session_id)
        return Route("chat", topic, tenant, session_id)
    if kind == "inbox":
        if rest != participant.tenant:
            raise Refused("forbidden", "the inbox of another tenant")
        if not any(role in participant.roles for role in INBOX_ROLES):
            raise Refused("forbidden", "the inbox is for the tenant's staff and admins")
        return Route("inbox", topic, await _ready_tenant(platform, rest))
    raise Refused("unknown-topic", f"no channel serves topic {topic!r} (chat:<session_id> or "
                  "inbox:<tenant>)")


async def handle_in(platform: WsPlatform, participant: Participant, route: Route,
                    event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The ok response to a client event on a joined channel; `Refused` otherwise."""
    if route.kind == "chat" and route.session_id is not None:
        if event == "message":
            return await receive_message(platform, route.tenant, participant, route.session_id,
                                         payload)
        if event == "function_result":
            return await send_function_result(platform, route.tenant, route.session_id,
                                              payload)
    raise Refused("unknown-event", f"{route.kind} channels take no {event!r} event")
