"""What one turn sends the hub on `simptu.<slug>.outbound`: typing, reply pieces and function
calls straight to Kafka (latency), the whole reply stored and written through the outbox in
the turn's transaction (exactly once, with the inbound event's idempotency record)."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from simptu.runtime.agent.actions import AGENT_SOURCE
from simptu.runtime.agent.metrics import FIRST_DELTA
from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.chat import store
from simptu.runtime.core.chat.events import current_traceparent
from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.events import CloudEvent, EventProducer, enqueue
from simptu.runtime.core.registry import TenantRecord


@dataclass(eq=False)
class ReplyStream:
    """One reply of the agent to one session: streamed piece by piece, then stored whole."""

    producer: EventProducer
    tenant: TenantRecord
    cipher: TenantCipher
    session_id: uuid.UUID
    message_id: uuid.UUID
    in_reply_to: uuid.UUID | None
    started: float
    pieces: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def _event(self, event_type: str, data: dict[str, Any]) -> CloudEvent:
        return CloudEvent(source=AGENT_SOURCE, type=event_type, tenantid=self.tenant.slug,
                          subject=str(self.session_id), traceparent=current_traceparent(),
                          data=data)

    async def _publish(self, event_type: str, data: dict[str, Any]) -> None:
        await self.producer.publish(self.tenant.names.topic("outbound"),
                                    self._event(event_type, data), str(self.session_id))

    async def typing(self) -> None:
        await self._publish(contract.TYPING, contract.Typing(
            session_id=self.session_id).model_dump(mode="json"))

    async def delta(self, piece: str) -> None:
        sealed = await contract.seal_text(self.cipher, self.message_id, piece)
        await self._publish(contract.REPLY_DELTA, contract.ReplyDelta(
            session_id=self.session_id, message_id=self.message_id, seq=len(self.pieces),
            delta_sealed=sealed).model_dump(mode="json"))
        if not self.pieces:
            FIRST_DELTA.observe(_elapsed(self.started))
        self.pieces.append(piece)

    async def function_call(self, call: dict[str, Any]) -> None:
        await self._publish(contract.FUNCTION_CALL, contract.FunctionCall(
            session_id=self.session_id, call_id=call["call_id"], name=call["name"],
            arguments=call["arguments"]).model_dump(mode="json"))

    async def store(self, conn: asyncpg.Connection) -> None:
        """The whole reply as the session's next message, and its `reply` event (outbox)."""
        if not self.pieces:
            return
        _row, sealed = await store.add_message(conn, self.cipher, self.session_id, "agent", None,
                                               self.text, message_id=self.message_id)
        reply = contract.Reply(session_id=self.session_id, message_id=self.message_id,
                               text_sealed=base64.b64encode(sealed).decode(),
                               in_reply_to=self.in_reply_to)
        await enqueue(conn, self._event(contract.REPLY, reply.model_dump(mode="json")),
                      self.tenant.names.topic("outbound"), str(self.session_id))


def _elapsed(started: float) -> float:
    return time.perf_counter() - started
