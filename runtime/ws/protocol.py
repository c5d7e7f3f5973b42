"""Phoenix Channels frames and their two JSON serializers.

A frame is `join_ref, ref, topic, event, payload`. Version 2.0.0 (phoenix.js' default) sends it
as the array `[join_ref, ref, topic, event, payload]`, version 1.0.0 as an object with those
keys. Replies are `phx_reply` frames whose payload is `{"status": "ok"|"error", "response"}`,
carrying the ref of the frame they answer; server pushes carry no ref."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, Protocol

# Control events of the protocol (phoenix.js `CHANNEL_EVENTS`).
JOIN = "phx_join"
LEAVE = "phx_leave"
REPLY = "phx_reply"
CLOSE = "phx_close"
ERROR = "phx_error"
HEARTBEAT = "heartbeat"
# The topic of heartbeats (and of errors that belong to no channel).
SOCKET_TOPIC = "phoenix"


class MalformedFrame(ValueError):
    """A text that is not a frame of the socket's protocol version; the message says why."""


@dataclass(frozen=True)
class Frame:
    join_ref: str | None
    ref: str | None
    topic: str
    event: str
    payload: dict[str, Any]


def reply(to: Frame, status: Literal["ok", "error"], response: dict[str, Any]) -> Frame:
    """The `phx_reply` answering frame `to`."""
    return Frame(to.join_ref, to.ref, to.topic, REPLY, {"status": status, "response": response})


def push(join_ref: str | None, topic: str, event: str, payload: dict[str, Any]) -> Frame:
    """A server-initiated frame for the channel joined as `join_ref`."""
    return Frame(join_ref, None, topic, event, payload)


class Serializer(Protocol):
    vsn: str

    def decode(self, text: str) -> Frame: ...

    def encode(self, frame: Frame) -> str: ...


def _ref(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise MalformedFrame(f"{name} must be a string or null")


def _frame(join_ref: object, ref: object, topic: object, event: object,
           payload: object) -> Frame:
    if not isinstance(topic, str) or not topic:
        raise MalformedFrame("topic must be a non-empty string")
    if not isinstance(event, str) or not event:
        raise MalformedFrame("event must be a non-empty string")
    if not isinstance(payload, dict):
        raise MalformedFrame("payload must be a JSON object")
    return Frame(_ref(join_ref, "join_ref"), _ref(ref, "ref"), topic, event, payload)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise MalformedFrame(f"not JSON: {error.msg} at {error.pos}") from None


class V2JsonSerializer:
    """`[join_ref, ref, topic, event, payload]`."""

    vsn = "2.0.0"

    def decode(self, text: str) -> Frame:
        value = _json(text)
        if not isinstance(value, list) or len(value) != 5:
            raise MalformedFrame("a frame is the array [join_ref, ref, topic, event, payload]")
        return _frame(*value)

    def encode(self, frame: Frame) -> str:
        return json.dumps([frame.join_ref, frame.ref, frame.topic, frame.event, frame.payload],
                          separators=(",", ":"))


class V1JsonSerializer:
    """`{"join_ref", "ref", "topic", "event", "payload"}`."""

    vsn = "1.0.0"

    def decode(self, text: str) -> Frame:
        value = _json(text)
        if not isinstance(value, dict):
            raise MalformedFrame("a frame is an object with topic, event, payload and ref")
        return _frame(value.get("join_ref"), value.get("ref"), value.get("topic"),
                      value.get("event"), value.get("payload"))

    def encode(self, frame: Frame) -> str:
        return json.dumps({"join_ref": frame.join_ref, "ref": frame.ref, "topic": frame.topic,
                           "event": frame.event, "payload": frame.payload},
                          separators=(",", ":"))


SERIALIZERS: dict[str, Serializer] = {s.vsn: s for s in (V2JsonSerializer(), V1JsonSerializer())}


def serializer_for(vsn: str | None) -> Serializer:
    """The serializer of a `vsn` query parameter (phoenix.js sends 2.0.0; none means 1.0.0)."""
    found = SERIALIZERS.get(vsn or "1.0.0")
    if found is None:
        raise MalformedFrame(f"unsupported protocol version {vsn!r} (2.0.0 or 1.0.0)")
    return found
