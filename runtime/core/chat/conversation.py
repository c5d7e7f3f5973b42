"""The contract of a live conversation on Kafka: what reaches the agent on the tenant's
`inbound` topic and what it answers on `outbound`, as CloudEvent types and their `data` models.
Every event is keyed by session id, so one conversation stays in order on one partition.

Text a customer or the agent wrote is never on Kafka in clear: it travels sealed (base64) with
the tenant's data key, bound to `chat_messages.body` of the message it belongs to — the stored
message for `message.received`, the agent's reply message for `reply.delta` and `reply`."""

from __future__ import annotations

import base64
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from simptu.runtime.core.chat.store import MESSAGES
from simptu.runtime.core.crypto import TenantCipher

# inbound: from the hub (or the API, or a channel webhook) to the agent
MESSAGE_RECEIVED = "io.simptu.chat.message.received"
FUNCTION_RESULT = "io.simptu.chat.function.result"
# outbound: to whichever hub replica holds the session's sockets, from the agent and from
# whatever posts a message (so a staff reply reaches the customer live, and back)
MESSAGE_POSTED = "io.simptu.chat.message.posted"
TYPING = "io.simptu.chat.typing"
REPLY_DELTA = "io.simptu.chat.reply.delta"
REPLY = "io.simptu.chat.reply"
FUNCTION_CALL = "io.simptu.chat.function.call"

Author = Literal["customer", "agent", "staff", "system"]
# Who handed a conversation to staff (see actions.handed_off_by).
HandedBy = Literal["agent", "customer", "staff", "system"]


class MessageReceived(BaseModel):
    """A message stored in `chat_messages`, for the agent to answer."""

    session_id: uuid.UUID
    message_id: uuid.UUID
    seq: int
    author: Author
    channel: str
    locale: str
    body_sealed: str
    # The sender's own id of the message (the WS client's `client_msg_id`), when it gave one.
    client_msg_id: str | None = None


class MessagePosted(BaseModel):
    """A customer's or a staff member's message, for every socket of the conversation;
    `session_status` as it was when posted (the inbox hears of messages to staff)."""

    session_id: uuid.UUID
    message_id: uuid.UUID
    seq: int
    author: Author
    body_sealed: str
    client_msg_id: str | None = None
    session_status: str = "open"


class FunctionResult(BaseModel):
    """The page's answer to a `function_call`; resumes the interrupted agent."""

    session_id: uuid.UUID
    call_id: str = Field(min_length=1, max_length=100)
    result: dict[str, Any]


class Typing(BaseModel):
    session_id: uuid.UUID
    typing: bool = True


class ReplyDelta(BaseModel):
    """One streamed piece of reply `message_id`; `seq` counts from 0 within the reply."""

    session_id: uuid.UUID
    message_id: uuid.UUID
    seq: int = Field(ge=0)
    delta_sealed: str


class Reply(BaseModel):
    """The whole reply, stored as `chat_messages` row `message_id` before this is published."""

    session_id: uuid.UUID
    message_id: uuid.UUID
    text_sealed: str
    # The customer message this answers, when it answers one.
    in_reply_to: uuid.UUID | None = None
    # Its place in the conversation (absent in events of agents before this field).
    seq: int | None = None


class FunctionCall(BaseModel):
    """The agent asks the page to do something (show a slot picker, confirm a booking) and
    waits for a `function.result` with the same `call_id`."""

    session_id: uuid.UUID
    call_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=100)
    arguments: dict[str, Any]


async def seal_text(cipher: TenantCipher, message_id: uuid.UUID, text: str) -> str:
    """`text` (a whole message or a piece of it) sealed for the event of `message_id`."""
    return base64.b64encode(await cipher.seal(MESSAGES, "body", message_id, text)).decode()


async def open_text(cipher: TenantCipher, message_id: uuid.UUID, sealed: str) -> str:
    """The text `seal_text` sealed; `TamperedField` if it was sealed for another message."""
    return await cipher.open_text(MESSAGES, "body", message_id, base64.b64decode(sealed))
