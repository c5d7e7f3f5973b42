"""What one turn sends the hub on `simptu.<slug>.outbound`: typing, reply pieces and function
calls straight to Kafka (latency), the whole reply recorded by the conversation's use case
(runtime/core/chat/actions) in the turn's transaction (exactly once, with the inbound event's
idempotency record)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from simptu.runtime.agent.actions import AGENT_SOURCE
from simptu.runtime.agent.metrics import FIRST_DELTA
from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.chat.actions import record_reply
from simptu.runtime.core.chat.events import current_traceparent
from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.events import CloudEvent, EventProducer
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

    async def store(self, conn: asyncpg.Connection, redis: aioredis.Redis) -> None:
        """The whole reply as the session's next message, and its `reply` event (outbox)."""
        if self.pieces:
            await record_reply(conn, self.cipher, redis, self.tenant, self.session_id,
                               self.message_id, self.text, self.in_reply_to,
                               source=AGENT_SOURCE)


def _elapsed(started: float) -> float:
    return time.perf_counter() - started
