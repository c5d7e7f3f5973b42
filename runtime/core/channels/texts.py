"""Texts the platform sends on its own (an access code), outside any conversation: asked for
through the tenant's outbox as an `outbound` event, sealed, and sent by the channel senders."""

from __future__ import annotations

import base64
import uuid
from typing import Literal

import asyncpg
from pydantic import BaseModel

from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.events import CloudEvent, enqueue
from simptu.runtime.core.tenancy import TenantNames

TEXT_REQUESTED = "io.simptu.channel.text.requested"
# The sealing address of a text's number and words (no table holds them).
TEXTS = "channel_texts"


class TextRequested(BaseModel):
    request_id: uuid.UUID
    channel: Literal["sms"] = "sms"
    to_sealed: str
    text_sealed: str


async def request_text(conn: asyncpg.Connection, cipher: TenantCipher, tenant: TenantNames,
                       to: str, text: str, *, source: str) -> uuid.UUID:
    """Inside a tenant unit of work: `text` will be texted to `to` once this commits."""
    request_id = uuid.uuid4()

    async def sealed(column: str, value: str) -> str:
        return base64.b64encode(await cipher.seal(TEXTS, column, request_id, value)).decode()

    data = TextRequested(request_id=request_id, to_sealed=await sealed("to", to),
                         text_sealed=await sealed("text", text))
    event = CloudEvent(source=source, type=TEXT_REQUESTED, tenantid=tenant.slug,
                       subject=str(request_id), data=data.model_dump(mode="json"))
    await enqueue(conn, event, tenant.topic("outbound"), str(request_id))
    return request_id


async def open_request(cipher: TenantCipher, request: TextRequested) -> tuple[str, str]:
    """The number and the words of a requested text."""
    to = await cipher.open_text(TEXTS, "to", request.request_id,
                                base64.b64decode(request.to_sealed))
    text = await cipher.open_text(TEXTS, "text", request.request_id,
                                  base64.b64decode(request.text_sealed))
    return to, text
