"""The hub of one replica: reads every tenant's outbound and events topics and pushes what
they carry to the sockets joined here, records each conversation's pushes for resuming
clients, and spreads presence between replicas."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import socket
from typing import Any

from simptu.runtime.core.events import CloudEvent
from simptu.runtime.core.tenancy import TenantNames
from simptu.runtime.ws.fanout import TopicReader
from simptu.runtime.ws.first_pushes import FirstPushes
from simptu.runtime.ws.metrics import DELIVERY, RESUME_REPLAYS
from simptu.runtime.ws.platform import WsPlatform
from simptu.runtime.ws.presence import PresenceTracker, State
from simptu.runtime.ws.pushes import chat_push, inbox_push, message_to_staff
from simptu.runtime.ws.read_positions import ReadPositions
from simptu.runtime.ws.subscriptions import Subscription, Subscriptions

log = logging.getLogger(__name__)
# Longest a replica takes to stop reading Kafka and leave presence when it shuts down.
SHUTDOWN_TIMEOUT = 10.0


def replica_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class Hub:
    """`async with Hub(platform):` reading Kafka and presence until the block ends."""

    def __init__(self, platform: WsPlatform, replica: str | None = None) -> None:
        self.platform = platform
        self.replica = replica or replica_name()
        self.subscriptions = Subscriptions()
        self.first_pushes = FirstPushes(platform.redis, ttl=platform.settings.ws_resume_ttl)
        self.presence = PresenceTracker(platform.redis, self.replica, self._on_presence_diff)
        self.reader = TopicReader(platform.settings.kafka, self._on_event,
                                  self._ready_tenants,
                                  refresh_interval=platform.settings.ws_topic_refresh_interval,
                                  client_id=f"simptu-ws-{self.replica}",
                                  positions=ReadPositions(platform.redis),
                                  # Older events are past the resume log's life: no one
                                  # can resume to them.
                                  catch_up_window=platform.settings.ws_resume_ttl)
        self._reading: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Hub:
        await self.presence.start()
        self._reading = asyncio.create_task(self.reader.run())
        ready = asyncio.create_task(self.reader.ready.wait())
        await asyncio.wait([ready, self._reading], return_when=asyncio.FIRST_COMPLETED)
        if self._reading.done():  # Kafka could not be read at all: fail the start
            ready.cancel()
            self._reading.result()
        return self

    @property
    def reading(self) -> bool:
        """Whether this replica still reads Kafka (else its sockets get no replies)."""
        return self._reading is not None and not self._reading.done()

    async def __aexit__(self, *exc: object) -> None:
        """Stop reading and leave presence; bounded, so a broker or Redis that stopped
        answering cannot keep the replica from exiting."""
        try:
            async with asyncio.timeout(SHUTDOWN_TIMEOUT):
                if self._reading is not None:
                    self._reading.cancel()
                    await asyncio.gather(self._reading, return_exceptions=True)
                await self.presence.aclose()
        except TimeoutError:
            log.warning("the hub did not stop reading and leave presence within %.0fs",
                        SHUTDOWN_TIMEOUT)

    async def _ready_tenants(self) -> set[str]:
        slugs: set[str] = set()
        after = None
        while page := await self.platform.registry.page(after, 500, "Ready"):
            slugs.update(record.slug for record in page)
            after = page[-1].slug
        return slugs

    async def _on_event(self, topic: str, offset: int, event: CloudEvent) -> None:
        if topic.endswith(".outbound"):
            await self._deliver_chat(offset, event)
            return
        push = inbox_push(event)
        if push is not None:
            await self.subscriptions.broadcast(event.tenantid, push.topic, push.event,
                                               push.payload)

    async def _deliver_chat(self, offset: int, event: CloudEvent) -> None:
        """Record the push in the session's log first, so whatever a socket got, a resuming
        client can get too; then push it to the sockets here."""
        cipher = self.platform.keyring.cipher(TenantNames(event.tenantid))
        push = await chat_push(event, cipher)
        if push is None:
            return
        payload = {**push.payload, "event_id": offset}
        session_id = push.topic.removeprefix("chat:")
        if not await self.first_pushes.is_first(event.tenantid, session_id, push.event, payload,
                                                offset):
            return  # a reply part an agent restarted mid-reply sent again: already pushed
        await self.platform.session_log.append(event.tenantid, session_id, offset,
                                               {"event": push.event, "payload": payload})
        await self.subscriptions.broadcast(event.tenantid, push.topic, push.event, payload,
                                           offset)
        to_staff = message_to_staff(event, push)
        if to_staff is not None:
            await self.subscriptions.broadcast(event.tenantid, to_staff.topic, to_staff.event,
                                               to_staff.payload)
        DELIVERY.observe((dt.datetime.now(dt.UTC) - event.time).total_seconds())

    async def _on_presence_diff(self, tenant: str, topic: str, diff: dict[str, State]) -> None:
        await self.subscriptions.broadcast(tenant, topic, "presence_diff", dict(diff))

    async def replay(self, subscription: Subscription, session_id: str) -> None:
        """Send a resumed subscriber what it missed, then what arrived meanwhile, in order."""
        missed = await self.platform.session_log.since(subscription.tenant, session_id,
                                                       subscription.last_event_id)
        for entry in missed:
            await self._send_once(subscription, entry["payload"]["event_id"], entry["event"],
                                  entry["payload"])
        RESUME_REPLAYS.inc(len(missed))
        while subscription.held:
            held, subscription.held = subscription.held, []
            for event_id, event, payload in held:
                await self._send_once(subscription, event_id, event, payload)
        subscription.held = None  # no await since the loop's test: nothing can slip past

    async def _send_once(self, subscription: Subscription, event_id: int | None, event: str,
                         payload: dict[str, Any]) -> None:
        if event_id is not None:
            if event_id <= subscription.last_event_id:
                return
            subscription.last_event_id = event_id
        sink = subscription.sink
        await sink.send_text(sink.serializer.encode(subscription.frame(event, payload)))
