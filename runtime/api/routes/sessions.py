"""Chat sessions: create, list, get, message history, post a message (through the outbox to the
agent), close and hand off to staff. Staff and admins see every session of their tenant; a
customer sees their own, a guest only the session of their token."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from simptu.runtime.api.auth import Caller
from simptu.runtime.api.chat_models import (
    Channel,
    ChatMessage,
    ChatSession,
    Handoff,
    MessageCreate,
    MessagePage,
    SessionCreate,
    SessionPage,
    SessionStatus,
)
from simptu.runtime.api.dependencies import (
    CallerDep,
    TenantDep,
    UnitOfWork,
    platform_of,
)
from simptu.runtime.api.history_reads import history_page
from simptu.runtime.api.instants import Instant
from simptu.runtime.api.pagination import (
    MAX_PAGE,
    after_time_and_id,
    decode_cursor,
    time_and_id_cursor,
)
from simptu.runtime.api.problems import ApiProblem, problem_responses
from simptu.runtime.core.chat import events as chat_events
from simptu.runtime.core.chat import store as chat_store
from simptu.runtime.core.chat.actions import visible_session

router = APIRouter(prefix="/v1/chat/sessions", tags=["chat"])
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429, 503)
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]


async def chat_caller(caller: CallerDep) -> Caller:
    """Staff, admins, customers and guests take part in chats; a token without a role does not."""
    if caller.guest_session is None and not caller.has_any(
            "platform-admin", "tenant-admin", "staff", "customer"):
        raise ApiProblem(403, "forbidden", "chat sessions need a staff, admin or customer role")
    return caller


ChatCaller = Annotated[Caller, Depends(chat_caller)]


@router.post("", status_code=201, response_model=ChatSession, responses=ERRORS)
async def create_session(body: SessionCreate, caller: ChatCaller, tenant: TenantDep,
                         conn: UnitOfWork) -> ChatSession:
    if caller.guest_session is not None:
        raise ApiProblem(403, "forbidden", "a guest has one session: the one of its token")
    if body.customer_id is not None and not caller.is_staff:
        raise ApiProblem(403, "forbidden", "only staff open a session for another customer")
    owner = None if caller.is_staff else caller.subject
    row = await chat_store.create_session(conn, uuid.uuid4(), channel=body.channel,
                                          locale=body.locale, owner_subject=owner,
                                          customer_id=body.customer_id)
    await chat_events.session_changed(conn, tenant, row, "opened")
    return ChatSession.model_validate(dict(row))


@router.get("", response_model=SessionPage, responses=ERRORS)
async def list_sessions(caller: ChatCaller, conn: UnitOfWork, limit: Limit = 20,
                        cursor: str | None = None, channel: Channel | None = None,
                        status: SessionStatus | None = None,
                        customer_id: uuid.UUID | None = None,
                        created_from: Instant | None = None,
                        created_until: Instant | None = None) -> SessionPage:
    """Newest first; filters combine; `next_cursor` pages on."""
    after = after_time_and_id(cursor)
    where = chat_store.SessionFilter(
        owner=None if caller.is_staff or caller.guest_session or caller.customer_access
        else caller.subject,
        only_id=caller.guest_session, channel=channel, status=status,
        customer_id=caller.customer_access or customer_id,
        created_from=created_from, created_until=created_until)
    rows = await chat_store.list_sessions(conn, where, after, limit + 1)
    items = [ChatSession.model_validate(dict(row)) for row in rows[:limit]]
    next_cursor = (time_and_id_cursor(items[-1].created_at, items[-1].id)
                   if len(rows) > limit else None)
    return SessionPage(items=items, next_cursor=next_cursor)


@router.get("/{session_id}", response_model=ChatSession, responses=ERRORS)
async def get_session(session_id: uuid.UUID, caller: ChatCaller,
                      conn: UnitOfWork) -> ChatSession:
    return ChatSession.model_validate(dict(await visible_session(conn, caller, session_id)))


@router.get("/{session_id}/messages", response_model=MessagePage, responses=ERRORS)
async def message_history(request: Request, session_id: uuid.UUID, caller: ChatCaller,
                          tenant: TenantDep, limit: Limit = 50,
                          cursor: str | None = None) -> Response:
    """The conversation in order, decrypted for the session's customer, staff and admins
    (a page read again comes from the sealed history cache)."""
    position = decode_cursor(cursor) or {"seq": 0}
    after = position.get("seq")
    if not isinstance(after, int):
        raise ApiProblem(400, "invalid-cursor", "the cursor is not one this API returned")
    body = await history_page(request, tenant, caller, session_id, after, limit)
    return Response(body, media_type="application/json")


@router.post("/{session_id}/messages", status_code=201, response_model=ChatMessage,
             responses=ERRORS)
async def post_message(request: Request, response: Response, session_id: uuid.UUID,
                       body: MessageCreate, caller: ChatCaller,
                       tenant: TenantDep) -> ChatMessage:
    """Store the message sealed, queue it for the agent and push it to the conversation's
    sockets. A repeated `client_msg_id` answers 200 with the first message."""
    conversations = platform_of(request).conversations
    posted = await conversations.post_message(tenant, caller, session_id, body.text,
                                              body.client_msg_id)
    if posted.duplicate:
        response.status_code = 200
    return ChatMessage(id=posted.message_id, session_id=session_id, seq=posted.seq,
                       author=posted.author, text=body.text, created_at=posted.created_at)


@router.post("/{session_id}/close", response_model=ChatSession, responses=ERRORS)
async def close_session(request: Request, session_id: uuid.UUID, caller: ChatCaller,
                        tenant: TenantDep) -> ChatSession:
    row = await platform_of(request).conversations.close(tenant, caller, session_id)
    return ChatSession.model_validate(dict(row))


@router.post("/{session_id}/handoff", response_model=ChatSession, responses=ERRORS)
async def hand_off(request: Request, session_id: uuid.UUID, body: Handoff, caller: ChatCaller,
                   tenant: TenantDep) -> ChatSession:
    """A person of the tenant's staff takes over from the agent, which stays quiet."""
    row = await platform_of(request).conversations.hand_off(tenant, caller, session_id, body.note)
    return ChatSession.model_validate(dict(row))


@router.post("/{session_id}/handback", response_model=ChatSession, responses=ERRORS)
async def hand_back(request: Request, session_id: uuid.UUID, caller: ChatCaller,
                    tenant: TenantDep) -> ChatSession:
    """Staff give the conversation back to the assistant, which answers the next message."""
    row = await platform_of(request).conversations.hand_back(tenant, caller, session_id)
    return ChatSession.model_validate(dict(row))
