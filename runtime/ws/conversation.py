"""What a client's `message` and `function_result` do: the message is stored sealed and, in
the same transaction, queued for the agent through the outbox (a repeated `client_msg_id` is
answered with the first message's id and stores nothing); a function result goes to the agent
on the tenant's inbound topic once Kafka acknowledged it."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from pydantic import BaseModel, Field, ValidationError

from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.chat import events as chat_events
from simptu.runtime.core.chat import store as chat_store
from simptu.runtime.core.chat.access import may_see
from simptu.runtime.core.chat.history_cache import forget_history
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events import CloudEvent
from simptu.runtime.core.registry import TenantRecord
from simptu.runtime.ws.identity import Participant
from simptu.runtime.ws.platform import WsPlatform

SOURCE = "/simptu/ws"


class Refused(Exception):
    """A client request that is answered with an error reply: `reason` a code, `detail` words."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail

    def response(self) -> dict[str, str]:
        return {"reason": self.reason, "detail": self.detail}


class ClientMessage(BaseModel):
    text: str = Field(min_length=1)
    client_msg_id: str | None = Field(default=None, min_length=1, max_length=100)


def parsed(model: type[BaseModel], payload: dict[str, Any]) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "payload"
        raise Refused("invalid-payload", f"{where}: {first['msg']}") from None


async def visible_session(conn: asyncpg.Connection, participant: Participant,
                          session_id: uuid.UUID, *, for_update: bool = False) -> asyncpg.Record:
    """The session if the participant may see it (its existence is not revealed otherwise)."""
    session = await chat_store.get_session(conn, session_id, for_update=for_update)
    if session is None or not may_see(participant, session):
        raise Refused("unknown-session", f"there is no chat session {session_id}")
    return session


async def receive_message(platform: WsPlatform, tenant: TenantRecord,
                          participant: Participant, session_id: uuid.UUID,
                          payload: dict[str, Any]) -> dict[str, Any]:
    message: ClientMessage = parsed(ClientMessage, payload)
    if len(message.text) > platform.settings.ws_max_text_chars:
        raise Refused("text-too-long", f"a message has at most "
                      f"{platform.settings.ws_max_text_chars} characters")
    if participant.customer_access is not None:
        raise Refused("read-only-token", "an access-code token only reads conversations")
    async with TenantUnitOfWork(platform.pool, tenant.names) as conn:
        # The session's row lock orders two sends of one client_msg_id: the second sees the first.
        session = await visible_session(conn, participant, session_id, for_update=True)
        if session["status"] == "closed":
            raise Refused("session-closed", f"chat session {session_id} is closed")
        if message.client_msg_id is not None:
            first = await conn.fetchrow(
                "SELECT id, seq FROM chat_messages WHERE session_id = $1 AND client_msg_id = $2",
                session_id, message.client_msg_id)
            if first is not None:
                return {"message_id": str(first["id"]), "seq": first["seq"], "duplicate": True}
        author = ("staff" if participant.is_staff
                  and session["owner_subject"] != participant.subject else "customer")
        cipher = platform.keyring.cipher(tenant.names, conn)
        row, sealed = await chat_store.add_message(conn, cipher, session_id, author,
                                                   participant.subject, message.text)
        await conn.execute("UPDATE chat_messages SET client_msg_id = $2 WHERE id = $1",
                           row["id"], message.client_msg_id)
        await chat_events.message_received(conn, tenant, session, row, sealed, source=SOURCE,
                                           client_msg_id=message.client_msg_id)
    await forget_history(platform.redis, tenant.names, session_id)  # committed: pages are old
    return {"message_id": str(row["id"]), "seq": row["seq"], "duplicate": False}


class ClientFunctionResult(BaseModel):
    call_id: str = Field(min_length=1, max_length=100)
    result: dict[str, Any]


async def send_function_result(platform: WsPlatform, tenant: TenantRecord,
                               session_id: uuid.UUID, payload: dict[str, Any]) -> dict[str, Any]:
    answer: ClientFunctionResult = parsed(ClientFunctionResult, payload)
    data = contract.FunctionResult(session_id=session_id, call_id=answer.call_id,
                                   result=answer.result)
    event = CloudEvent(source=SOURCE, type=contract.FUNCTION_RESULT, tenantid=tenant.slug,
                       subject=str(session_id), traceparent=chat_events.current_traceparent(),
                       data=data.model_dump(mode="json"))
    await platform.producer.publish(tenant.names.topic("inbound"), event, str(session_id))
    return {"call_id": answer.call_id}
