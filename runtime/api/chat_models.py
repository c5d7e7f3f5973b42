"""What the chat sessions endpoints accept and answer (separate from the stored rows)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field

Channel = Literal["web", "whatsapp", "messenger", "instagram", "sms", "voice", "email"]
SessionStatus = Literal["open", "handed_off", "closed"]
Author = Literal["customer", "agent", "staff", "system"]
LOCALE = r"^[a-z]{2}(-[A-Z]{2})?$"


class SessionCreate(BaseModel):
    channel: Channel = "web"
    locale: str = Field(default="en", pattern=LOCALE)
    # Staff may open a session for a known customer; a customer's own session is theirs.
    customer_id: uuid.UUID | None = None


class ChatSession(BaseModel):
    id: uuid.UUID
    channel: Channel
    status: SessionStatus
    customer_id: uuid.UUID | None
    guest: bool
    locale: str
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None


class SessionPage(BaseModel):
    items: list[ChatSession]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null on the last page")


class MessageCreate(BaseModel):
    # The longest text is a setting (SIMPTU_CHAT_MAX_TEXT_CHARS), the same on every transport.
    text: str = Field(min_length=1)
    client_msg_id: str | None = Field(
        default=None, min_length=1, max_length=100,
        description="the client's own id of the message: posting it again stores nothing and "
                    "answers the first message")


class ChatMessage(BaseModel):
    id: uuid.UUID
    session_id: uuid.UUID
    seq: int
    author: Author
    text: str
    created_at: dt.datetime


class MessagePage(BaseModel):
    items: list[ChatMessage]
    next_cursor: str | None


class Handoff(BaseModel):
    note: str | None = Field(default=None, max_length=2000,
                             description="why a person should take over (stored sealed)")
