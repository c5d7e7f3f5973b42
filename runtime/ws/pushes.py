"""What the hub pushes for an event of Kafka: a conversation's outbound events become
`message` (a customer's or staff's), `typing`, `reply_delta`, `reply` and `function_call` on
`chat:<session_id>` (their sealed text opened with the tenant's key); session changes on the
tenant's `events` topic become `conversation_opened`, `handoff_requested`,
`conversation_handed_back` and `conversation_closed` on `inbox:<slug>`, and a customer's message
to a conversation with staff `message_received` there too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.events import CloudEvent

INBOX_EVENTS = {
    "io.simptu.chat.session.opened": "conversation_opened",
    "io.simptu.chat.session.handed_off": "handoff_requested",
    "io.simptu.chat.session.handed_back": "conversation_handed_back",
    "io.simptu.chat.session.closed": "conversation_closed",
}


@dataclass(frozen=True)
class Push:
    topic: str
    event: str
    payload: dict[str, Any]


async def chat_push(event: CloudEvent, cipher: TenantCipher) -> Push | None:
    """The push of an outbound event; None for a type the page does not get."""
    if event.type == contract.MESSAGE_POSTED:
        posted = contract.MessagePosted.model_validate(event.data)
        return Push(f"chat:{posted.session_id}", "message", {
            "message_id": str(posted.message_id), "seq": posted.seq, "author": posted.author,
            "text": await contract.open_text(cipher, posted.message_id, posted.body_sealed),
            "client_msg_id": posted.client_msg_id})
    if event.type == contract.TYPING:
        typing = contract.Typing.model_validate(event.data)
        return Push(f"chat:{typing.session_id}", "typing", {"typing": typing.typing})
    if event.type == contract.REPLY_DELTA:
        delta = contract.ReplyDelta.model_validate(event.data)
        return Push(f"chat:{delta.session_id}", "reply_delta", {
            "message_id": str(delta.message_id), "seq": delta.seq,
            "delta": await contract.open_text(cipher, delta.message_id, delta.delta_sealed)})
    if event.type == contract.REPLY:
        reply = contract.Reply.model_validate(event.data)
        return Push(f"chat:{reply.session_id}", "reply", {
            "message_id": str(reply.message_id),
            "text": await contract.open_text(cipher, reply.message_id, reply.text_sealed),
            "in_reply_to": str(reply.in_reply_to) if reply.in_reply_to else None,
            "seq": reply.seq})
    if event.type == contract.FUNCTION_CALL:
        call = contract.FunctionCall.model_validate(event.data)
        return Push(f"chat:{call.session_id}", "function_call", {
            "call_id": call.call_id, "name": call.name, "arguments": call.arguments})
    return None


def message_to_staff(event: CloudEvent, chat: Push) -> Push | None:
    """The inbox's push of a customer's message to a conversation with staff (`chat` is the
    conversation's push of it); None for any other event."""
    if (event.type != contract.MESSAGE_POSTED or not isinstance(event.data, dict)
            or event.data.get("session_status") != "handed_off"
            or event.data.get("author") != "customer"):
        return None
    return Push(f"inbox:{event.tenantid}", "message_received", {
        "session_id": event.data.get("session_id"), **chat.payload})


def inbox_push(event: CloudEvent) -> Push | None:
    """The staff inbox's push of a session change; None for other events."""
    name = INBOX_EVENTS.get(event.type)
    if name is None or not isinstance(event.data, dict):
        return None
    return Push(f"inbox:{event.tenantid}", name, {
        "session_id": event.data.get("session_id"), "status": event.data.get("status"),
        "channel": event.data.get("channel"), "event_id": event.id})
