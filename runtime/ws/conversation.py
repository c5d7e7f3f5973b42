"""What a client's `message` and `function_result` do: the message is posted through the
conversation's use case (runtime/core/chat/actions: a repeated `client_msg_id` is answered with
the first message's id and stores nothing); a function result goes to the agent on the
tenant's inbound topic once Kafka acknowledged it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.chat import events as chat_events
from simptu.runtime.core.chat.actions import ChatRefused
from simptu.runtime.core.events import CloudEvent
from simptu.runtime.core.registry import TenantRecord
from simptu.runtime.ws.identity import Participant
from simptu.runtime.ws.platform import SOURCE, WsPlatform


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


@contextmanager
def refused_as_reply() -> Iterator[None]:
    """A use case's refusal answered as the client's error reply."""
    try:
        yield
    except ChatRefused as refused:
        raise Refused(refused.reason, refused.detail) from None


async def receive_message(platform: WsPlatform, tenant: TenantRecord,
                          participant: Participant, session_id: uuid.UUID,
                          payload: dict[str, Any]) -> dict[str, Any]:
    message: ClientMessage = parsed(ClientMessage, payload)
    with refused_as_reply():
        posted = await platform.conversations.post_message(
            tenant, participant, session_id, message.text, message.client_msg_id)
    return {"message_id": str(posted.message_id), "seq": posted.seq,
            "duplicate": posted.duplicate}


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
