"""The use cases of a conversation, one function per business action, that every transport
calls: the API's routes, the WS hub's channel, the agent and each channel's webhook. Each checks
who may do it, applies the same limits and dedupe, stores sealed, queues its events through the
outbox in the same transaction, and announces what changed to every socket of the conversation
(a `message.posted` on the tenant's `outbound` topic, which every hub replica pushes and keeps in
its resume log). A refusal is a typed `ChatRefused` that each transport maps to its own answer.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.chat import events, store
from simptu.runtime.core.chat.access import Principal, may_see
from simptu.runtime.core.chat.history_cache import forget_history
from simptu.runtime.core.crypto import KeyRing, TenantCipher
from simptu.runtime.core.database import TenantUnitOfWork, after_commit
from simptu.runtime.core.events import CloudEvent, enqueue
from simptu.runtime.core.near_cache import NearCache
from simptu.runtime.core.registry import TenantRecord


class ChatRefused(Exception):
    """An action that may not happen: `reason` a stable code, `detail` words for people,
    `status` the HTTP status that says the same."""

    status = 400
    reason = "refused"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnknownSession(ChatRefused):
    """No such session, or one the actor may not see (its existence is not revealed)."""

    status, reason = 404, "unknown-session"

    def __init__(self, session_id: uuid.UUID) -> None:
        super().__init__(f"there is no chat session {session_id}")


class SessionClosed(ChatRefused):
    status, reason = 409, "session-closed"


class NotHandedOff(ChatRefused):
    status, reason = 409, "not-handed-off"


class TextTooLong(ChatRefused):
    status, reason = 422, "text-too-long"


class ReadOnlyAccess(ChatRefused):
    status, reason = 403, "read-only-token"


class StaffOnly(ChatRefused):
    status, reason = 403, "forbidden"


@dataclass(frozen=True)
class Posted:
    """A message as stored; `duplicate` when its client message id was seen before, and this
    is the first message of that id (nothing was stored again)."""

    message_id: uuid.UUID
    seq: int
    author: contract.Author
    created_at: dt.datetime
    duplicate: bool = False


@dataclass(frozen=True)
class Conversations:
    """The actions on a tenant's conversations, for one process: `source` names it in events
    (`/simptu/api`, `/simptu/ws`), `max_text_chars` is the longest message anyone may post,
    `near` the process's own copies of history pages (forgotten at once after a write)."""

    pool: asyncpg.Pool
    keyring: KeyRing
    redis: aioredis.Redis
    source: str
    max_text_chars: int
    near: NearCache | None = None

    async def post_message(self, tenant: TenantRecord, poster: Principal,
                           session_id: uuid.UUID, text: str,
                           client_msg_id: str | None = None) -> Posted:
        """A customer's or a staff member's message: stored sealed, queued for the agent and
        announced to the conversation. A repeated `client_msg_id` answers the first message
        and stores nothing."""
        self.check_post(poster, text)
        async with TenantUnitOfWork(self.pool, tenant.names) as conn:
            return await self.post_in(conn, tenant, poster, session_id, text, client_msg_id)

    def check_post(self, poster: Principal, text: str) -> None:
        """Refused before anything is read or written: what no one may post."""
        if not text.strip():
            raise ChatRefused("a message needs some text")
        if len(text) > self.max_text_chars:
            raise TextTooLong(f"a message has at most {self.max_text_chars} characters")
        if poster.customer_access is not None:
            raise ReadOnlyAccess("an access-code token only reads conversations")

    async def post_in(self, conn: asyncpg.Connection, tenant: TenantRecord, poster: Principal,
                      session_id: uuid.UUID, text: str,
                      client_msg_id: str | None = None) -> Posted:
        """`post_message` inside the caller's unit of work of the tenant (one transaction for
        what a channel does before posting and the post), `check_post` passed already."""
        # The session's row lock orders two posts of one client_msg_id: the second sees
        # the first.
        session = open_session(await visible_session(conn, poster, session_id,
                                                     for_update=True))
        if client_msg_id is not None:
            first = await conn.fetchrow(
                "SELECT id, seq, author, created_at FROM chat_messages "
                "WHERE session_id = $1 AND client_msg_id = $2", session_id, client_msg_id)
            if first is not None:
                return Posted(first["id"], first["seq"], first["author"],
                              first["created_at"], duplicate=True)
        author = author_of(poster, session)
        cipher = self.keyring.cipher(tenant.names, conn)
        row, sealed = await store.add_message(conn, cipher, session_id, author,
                                              poster.subject, text,
                                              client_msg_id=client_msg_id)
        await events.message_received(conn, tenant, session, row, sealed,
                                      source=self.source, client_msg_id=client_msg_id)
        await announce_message(conn, tenant, session, row, sealed,
                               source=self.source, client_msg_id=client_msg_id)
        forget_history_after_commit(conn, self.redis, tenant, session_id, self.near)
        return Posted(row["id"], row["seq"], author, row["created_at"])

    async def hand_off(self, tenant: TenantRecord, by: Principal, session_id: uuid.UUID,
                       note: str | None = None) -> asyncpg.Record:
        """Staff take over from the agent (asked for by the customer, staff or the agent)."""
        async with TenantUnitOfWork(self.pool, tenant.names) as conn:
            open_session(await visible_session(conn, by, session_id, for_update=True))
            cipher = self.keyring.cipher(tenant.names, conn)
            sealed = (await cipher.seal(store.SESSIONS, "handoff_note", session_id, note)
                      if note else None)
            # A staff member takes it over by name; a customer's request says who asked.
            who = by.subject if by.is_staff else "customer"
            return await hand_off_in(conn, tenant, session_id, who, source=self.source,
                                     sealed_note=sealed)

    async def hand_back(self, tenant: TenantRecord, by: Principal,
                        session_id: uuid.UUID) -> asyncpg.Record:
        """Staff give the conversation back to the agent, which answers the next message."""
        if not by.is_staff:
            raise StaffOnly("only the tenant's staff hand a conversation back to the assistant")
        async with TenantUnitOfWork(self.pool, tenant.names) as conn:
            session = open_session(await visible_session(conn, by, session_id,
                                                         for_update=True))
            if session["status"] != "handed_off":
                raise NotHandedOff(f"chat session {session_id} is not with staff")
            row = await store.set_status(conn, session_id, "open")
            await events.session_changed(conn, tenant, row, "handed_back", source=self.source)
            return row

    async def close(self, tenant: TenantRecord, by: Principal,
                    session_id: uuid.UUID) -> asyncpg.Record:
        async with TenantUnitOfWork(self.pool, tenant.names) as conn:
            open_session(await visible_session(conn, by, session_id, for_update=True))
            row = await store.set_status(conn, session_id, "closed")
            await events.session_changed(conn, tenant, row, "closed", source=self.source)
            return row


async def visible_session(conn: asyncpg.Connection, viewer: Principal, session_id: uuid.UUID,
                          *, for_update: bool = False) -> asyncpg.Record:
    """The session if `viewer` may see it; `UnknownSession` otherwise."""
    session = await store.get_session(conn, session_id, for_update=for_update)
    if session is None or not may_see(viewer, session):
        raise UnknownSession(session_id)
    return session


def open_session(session: asyncpg.Record) -> asyncpg.Record:
    if session["status"] == "closed":
        raise SessionClosed(f"chat session {session['id']} is closed")
    return session


@dataclass(frozen=True)
class Holder:
    """Who handed a conversation to staff: `kind` is `agent` (the assistant, e.g. asked for a
    person), `customer` (its customer asked), `staff` (a staff member took it over: `subject`)
    or `system` (a platform process, e.g. a reservation staff must look at)."""

    kind: contract.HandedBy
    subject: str | None = None


def handed_off_by(session: Mapping[str, Any]) -> Holder | None:
    """Who handed `session` (a row with `handed_off_by` and `owner_subject`) to staff last;
    None if no one ever did."""
    by = session["handed_off_by"]
    if by is None:
        return None
    if by == "agent":
        return Holder("agent")
    if by.startswith("system:"):
        return Holder("system")
    if by == "customer" or by == session["owner_subject"]:
        return Holder("customer")
    return Holder("staff", by)


def author_of(poster: Principal, session: asyncpg.Record) -> contract.Author:
    """Staff writing in a conversation of someone else's write as staff; everyone else (and
    staff in their own conversation) as its customer."""
    return ("staff" if poster.is_staff and session["owner_subject"] != poster.subject
            else "customer")


async def hand_off_in(conn: asyncpg.Connection, tenant: TenantRecord, session_id: uuid.UUID,
                      by: str, *, source: str, sealed_note: bytes | None = None
                      ) -> asyncpg.Record:
    """Inside a unit of work that checked the session: staff take over (announced on the
    tenant's `events` topic, so the inbox hears of it), and the agent stays quiet."""
    row = await store.set_status(conn, session_id, "handed_off", handoff_note=sealed_note,
                                 handed_off_by=by)
    await events.session_changed(conn, tenant, row, "handed_off", source=source)
    return row


async def record_reply(conn: asyncpg.Connection, cipher: TenantCipher, redis: aioredis.Redis,
                       tenant: TenantRecord, session_id: uuid.UUID, message_id: uuid.UUID,
                       text: str, in_reply_to: uuid.UUID | None, *, source: str) -> None:
    """Inside the agent's unit of work: its whole reply as the session's next message, and the
    `reply` event every socket of the conversation gets (streamed pieces came before it)."""
    row, sealed = await store.add_message(conn, cipher, session_id, "agent", None, text,
                                          message_id=message_id)
    reply = contract.Reply(session_id=session_id, message_id=message_id,
                           text_sealed=base64.b64encode(sealed).decode(),
                           in_reply_to=in_reply_to, seq=row["seq"])
    await _outbound(conn, tenant, session_id, contract.REPLY, reply.model_dump(mode="json"),
                    source=source)
    forget_history_after_commit(conn, redis, tenant, session_id)


async def announce_message(conn: asyncpg.Connection, tenant: TenantRecord,
                           session: asyncpg.Record, row: asyncpg.Record, sealed: bytes,
                           *, source: str, client_msg_id: str | None = None) -> None:
    """Every socket of the conversation gets the message live (through the outbox, so in the
    order of the conversation's other outbound events, once committed)."""
    posted = contract.MessagePosted(
        session_id=session["id"], message_id=row["id"], seq=row["seq"], author=row["author"],
        body_sealed=base64.b64encode(sealed).decode(), client_msg_id=client_msg_id,
        session_status=session["status"])
    await _outbound(conn, tenant, session["id"], contract.MESSAGE_POSTED,
                    posted.model_dump(mode="json"), source=source)


def forget_history_after_commit(conn: asyncpg.Connection, redis: aioredis.Redis,
                                tenant: TenantRecord, session_id: uuid.UUID,
                                near: NearCache | None = None) -> None:
    """The session's cached history pages are forgotten once this unit of work commits."""
    async def forget() -> None:
        await forget_history(redis, tenant.names, session_id, near)
    after_commit(conn, forget)


async def _outbound(conn: asyncpg.Connection, tenant: TenantRecord, session_id: uuid.UUID,
                    event_type: str, data: dict[str, object], *, source: str) -> None:
    event = CloudEvent(source=source, type=event_type, tenantid=tenant.slug,
                       subject=str(session_id), traceparent=events.current_traceparent(),
                       data=data)
    await enqueue(conn, event, tenant.names.topic("outbound"), str(session_id))
