"""The events chat sessions produce, written through the transactional outbox: a message for
the agent on the tenant's `inbound` topic, status changes on its `events` topic; keyed by
session id so one session's events stay in order. `source` names the runtime that wrote them
(`/simptu/api`, `/simptu/ws`).

A message event carries the body sealed (base64, bound to `chat_messages.body` of the message
id), not in clear: the outbox row is stored in Postgres until the relay publishes it. The
agent opens it with the tenant's key."""

from __future__ import annotations

import base64
import secrets

import asyncpg
import structlog

from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.events import CloudEvent, enqueue
from simptu.runtime.core.registry import TenantRecord

API_SOURCE = "/simptu/api"


def current_traceparent() -> str | None:
    trace_id = structlog.contextvars.get_contextvars().get("trace_id")
    return f"00-{trace_id}-{secrets.token_hex(8)}-01" if trace_id else None


async def message_received(conn: asyncpg.Connection, tenant: TenantRecord,
                           session: asyncpg.Record, message: asyncpg.Record,
                           sealed_body: bytes, *, source: str = API_SOURCE,
                           client_msg_id: str | None = None) -> None:
    received = contract.MessageReceived(
        session_id=session["id"], message_id=message["id"], seq=message["seq"],
        author=message["author"], channel=session["channel"], locale=session["locale"],
        body_sealed=base64.b64encode(sealed_body).decode(), client_msg_id=client_msg_id)
    event = CloudEvent(
        source=source, type=contract.MESSAGE_RECEIVED, tenantid=tenant.slug,
        subject=str(session["id"]), traceparent=current_traceparent(),
        data=received.model_dump(mode="json"))
    await enqueue(conn, event, tenant.names.topic("inbound"), str(session["id"]))


async def session_changed(conn: asyncpg.Connection, tenant: TenantRecord,
                          session: asyncpg.Record, status: str, *,
                          source: str = API_SOURCE) -> None:
    event = CloudEvent(
        source=source, type=f"io.simptu.chat.session.{status}", tenantid=tenant.slug,
        subject=str(session["id"]), traceparent=current_traceparent(),
        data={"session_id": str(session["id"]), "status": status,
              "channel": session["channel"]})
    await enqueue(conn, event, tenant.names.topic("events"), str(session["id"]))
