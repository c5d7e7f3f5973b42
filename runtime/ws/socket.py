"""One client's socket: reads frames, answers heartbeats, joins and leaves channels, hands
channel events to their channel, and leaves everything when the socket ends. A socket that
sends nothing for the heartbeat timeout is closed, as Phoenix does."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from simptu.runtime.core.readiness import dependency_away
from simptu.runtime.ws import protocol
from simptu.runtime.ws.channels import CHANNELS, Route, channel_of
from simptu.runtime.ws.conversation import Refused
from simptu.runtime.ws.hub import Hub
from simptu.runtime.ws.identity import Participant
from simptu.runtime.ws.metrics import JOINS, MALFORMED, MESSAGES
from simptu.runtime.ws.presence import Entry
from simptu.runtime.ws.protocol import Frame, MalformedFrame, Serializer
from simptu.runtime.ws.subscriptions import Subscription

log = logging.getLogger(__name__)


@dataclass
class Joined:
    route: Route
    subscription: Subscription
    presence: Entry | None = None


def failure(error: Exception) -> dict[str, str]:
    """The error reply to a client event the hub failed to handle: `unavailable` (retry in a
    moment, e.g. the same message with the same client_msg_id) while a service the hub needs
    cannot be reached, `internal-error` for any other failure."""
    if dependency_away(error):
        return {"reason": "unavailable",
                "detail": "a service the hub needs cannot be reached now; retry shortly"}
    return {"reason": "internal-error", "detail": "the hub could not do this; retry"}


class PhoenixSocket:
    def __init__(self, hub: Hub, connection: ServerConnection, serializer: Serializer,
                 participant: Participant | Refused) -> None:
        self.hub = hub
        self.connection = connection
        self.serializer = serializer
        self.participant = participant
        self.joined: dict[str, Joined] = {}
        self._malformed = 0

    async def send_text(self, text: str) -> None:
        await self.connection.send(text)

    async def send(self, frame: Frame) -> None:
        await self.send_text(self.serializer.encode(frame))

    async def serve(self) -> None:
        settings = self.hub.platform.settings
        try:
            while True:
                try:
                    async with asyncio.timeout(settings.ws_heartbeat_timeout):
                        text = await self.connection.recv()
                except TimeoutError:
                    await self.connection.close(1000, "heartbeat timeout")
                    return
                await self._receive(text)
        except ConnectionClosed:
            return
        finally:
            for topic in list(self.joined):
                await self._leave(topic)

    async def _receive(self, text: str | bytes) -> None:
        try:
            if isinstance(text, bytes):
                raise MalformedFrame("binary frames are not supported: send JSON text")
            frame = self.serializer.decode(text)
        except MalformedFrame as error:
            await self._malformed_frame(str(error))
            return
        self._malformed = 0
        structlog.contextvars.bind_contextvars(trace_id=uuid.uuid4().hex)
        try:
            await self._dispatch(frame)
        except (ConnectionClosed, asyncio.CancelledError):
            raise
        except Exception as error:  # a failing channel answers an error; the socket goes on
            if dependency_away(error):
                log.warning("could not handle %s on %s: %s: %s", frame.event, frame.topic,
                            type(error).__name__, error)
            else:
                log.exception("could not handle %s on %s", frame.event, frame.topic)
            await self.send(protocol.reply(frame, "error", failure(error)))

    async def _malformed_frame(self, detail: str) -> None:
        MALFORMED.inc()
        self._malformed += 1
        await self.send(protocol.push(None, protocol.SOCKET_TOPIC, protocol.ERROR,
                                      {"reason": "malformed-frame", "detail": detail}))
        if self._malformed >= self.hub.platform.settings.ws_max_malformed_frames:
            await self.connection.close(1008, "too many malformed frames")

    async def _dispatch(self, frame: Frame) -> None:
        if frame.topic == protocol.SOCKET_TOPIC and frame.event == protocol.HEARTBEAT:
            await self.send(protocol.reply(frame, "ok", {}))
        elif frame.event == protocol.JOIN:
            await self._join(frame)
        elif frame.event == protocol.LEAVE:
            await self._leave(frame.topic)
            await self.send(protocol.reply(frame, "ok", {}))
        else:
            await self._channel_event(frame)

    async def _join(self, frame: Frame) -> None:
        kind = frame.topic.partition(":")[0]
        try:
            participant = self._verified()
            if frame.topic in self.joined:  # a second join replaces the first, as in Phoenix
                old = self.joined[frame.topic]
                await self._leave(frame.topic)
                await self.send(protocol.push(old.subscription.join_ref, frame.topic,
                                              protocol.CLOSE, {}))
            channel, rest = channel_of(frame.topic)
            route = await channel.join(self.hub.platform, participant, rest)
            last_event_id = _last_event_id(frame.payload)
        except Refused as refused:
            JOINS.labels(kind if kind in CHANNELS else "unknown", refused.reason).inc()
            await self.send(protocol.reply(frame, "error", refused.response()))
            return
        structlog.contextvars.bind_contextvars(tenant=route.tenant.slug)
        subscription = Subscription(self, route.tenant.slug, frame.topic, frame.join_ref,
                                    last_event_id if last_event_id is not None else -1,
                                    [] if last_event_id is not None else None)
        joined = self.joined[frame.topic] = Joined(route, subscription)
        self.hub.subscriptions.add(subscription)
        JOINS.labels(route.kind, "ok").inc()
        await self.send(protocol.reply(frame, "ok", {}))
        await self._after_join(participant, joined)

    async def _after_join(self, participant: Participant, joined: Joined) -> None:
        tenant, topic = joined.route.tenant.slug, joined.route.topic
        joined.presence = await self.hub.presence.track(tenant, topic, participant.subject,
                                                        {"role": participant.role})
        state = await self.hub.presence.list(tenant, topic)
        await self.send(joined.subscription.frame("presence_state", dict(state)))
        if joined.route.session_id is not None and joined.subscription.held is not None:
            await self.hub.replay(joined.subscription, str(joined.route.session_id))

    async def _leave(self, topic: str) -> None:
        joined = self.joined.pop(topic, None)
        if joined is None:
            return
        self.hub.subscriptions.remove(joined.subscription)
        if joined.presence is not None:
            await self.hub.presence.untrack(joined.route.tenant.slug, topic, joined.presence)

    async def _channel_event(self, frame: Frame) -> None:
        joined = self.joined.get(frame.topic)
        if joined is None:
            await self.send(protocol.reply(frame, "error", {
                "reason": "unmatched topic", "detail": f"join {frame.topic!r} first"}))
            return
        try:
            response = await CHANNELS[joined.route.kind].handle_in(
                self.hub.platform, self._verified(), joined.route, frame.event, frame.payload)
        except Refused as refused:
            MESSAGES.labels(_event_label(frame.event), refused.reason).inc()
            await self.send(protocol.reply(frame, "error", refused.response()))
            return
        MESSAGES.labels(_event_label(frame.event), "ok").inc()
        await self.send(protocol.reply(frame, "ok", response))

    def _verified(self) -> Participant:
        if isinstance(self.participant, Refused):
            raise self.participant
        return self.participant


def _last_event_id(params: dict[str, Any]) -> int | None:
    value = params.get("last_event_id")
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= -1:
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit() and int(value) >= -1:
        return int(value)
    raise Refused("invalid-payload", "last_event_id must be an event id the hub pushed")


def _event_label(event: str) -> str:
    return event if event in ("message", "function_result") else "other"
