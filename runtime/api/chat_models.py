"""What the chat sessions endpoints accept and answer (separate from the stored rows)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from simptu.runtime.core.chat.actions import handed_off_by
from simptu.runtime.core.chat.conversation import HandedBy

# Every channel a conversation can be on: the values of the tenant schema's
# chat_sessions_channel_check (a test compares them).
Channel = Literal["web", "whatsapp", "messenger", "instagram", "sms", "voice", "email",
                  "booking_com"]
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
    handed_off_by: HandedBy | None = Field(
        default=None, description="who last handed the conversation to staff: the assistant "
        "(`agent`, e.g. the customer asked for a person), the `customer`, a `staff` member "
        "who took it over (`taken_over_by`) or a platform process (`system`); null if never")
    taken_over_by: str | None = Field(
        default=None, description="the subject of the staff member who took it over")

    @model_validator(mode="before")
    @classmethod
    def _holder(cls, row: Any) -> Any:
        """A stored row says who handed it off in one column; the answer says what kind."""
        if not isinstance(row, dict) or "owner_subject" not in row:
            return row
        holder = handed_off_by(row)
        return {**row, "handed_off_by": holder and holder.kind,
                "taken_over_by": holder and holder.subject}


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
