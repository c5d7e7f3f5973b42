"""Which sockets of this replica are joined to which topic, and the fan-out of one push to all
of them: encoded once per protocol version, sent without the subscriber's join ref (as Phoenix
broadcasts), skipped for a subscriber that already got that event (a resumed client)."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

from simptu.runtime.ws.metrics import PUSHES
from simptu.runtime.ws.protocol import Frame, Serializer, push

log = logging.getLogger(__name__)
SEND_TIMEOUT = 5.0


class Sink(Protocol):
    """A socket as the fan-out sees it."""

    serializer: Serializer

    async def send_text(self, text: str) -> None: ...


@dataclass(eq=False)
class Subscription:
    sink: Sink
    tenant: str
    topic: str
    join_ref: str | None
    # The newest event id this subscriber has; events up to it are not sent again.
    last_event_id: int = -1
    # While a resumed subscriber is being replayed its log, live events wait here.
    held: list[tuple[int | None, str, dict[str, Any]]] | None = field(default=None)

    def frame(self, event: str, payload: dict[str, Any]) -> Frame:
        return push(self.join_ref, self.topic, event, payload)


class Subscriptions:
    def __init__(self) -> None:
        self._by_topic: defaultdict[tuple[str, str], set[Subscription]] = defaultdict(set)

    def add(self, subscription: Subscription) -> None:
        self._by_topic[subscription.tenant, subscription.topic].add(subscription)

    def remove(self, subscription: Subscription) -> None:
        key = (subscription.tenant, subscription.topic)
        self._by_topic[key].discard(subscription)
        if not self._by_topic[key]:
            del self._by_topic[key]

    def of(self, tenant: str, topic: str) -> set[Subscription]:
        return self._by_topic.get((tenant, topic), set())

    async def broadcast(self, tenant: str, topic: str, event: str, payload: dict[str, Any],
                        event_id: int | None = None) -> int:
        """Push to every subscriber of the topic here; returns how many got it."""
        targets = []
        for subscription in self.of(tenant, topic):
            if subscription.held is not None:
                subscription.held.append((event_id, event, payload))
            elif event_id is None or event_id > subscription.last_event_id:
                if event_id is not None:
                    subscription.last_event_id = event_id
                targets.append(subscription)
        if not targets:
            return 0
        frame = push(None, topic, event, payload)
        encoded: dict[str, str] = {}
        sends = []
        for subscription in targets:
            serializer = subscription.sink.serializer
            text = encoded.get(serializer.vsn)
            if text is None:
                text = encoded[serializer.vsn] = serializer.encode(frame)
            sends.append(_send(subscription.sink, text))
        await asyncio.gather(*sends)
        PUSHES.labels(event).inc(len(targets))
        return len(targets)

    def __len__(self) -> int:
        return sum(len(subs) for subs in self._by_topic.values())


async def _send(sink: Sink, text: str) -> None:
    try:
        async with asyncio.timeout(SEND_TIMEOUT):
            await sink.send_text(text)
    except Exception as error:  # a closed or stuck socket misses the push; it can resume
        log.info("push not delivered: %r", error)
