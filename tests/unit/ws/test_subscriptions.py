"""Fan-out to the sockets of one replica: a push is encoded once per protocol version, an event
a subscriber already has is not sent again, and a subscriber being replayed its log gets live
events only afterwards."""

from __future__ import annotations

from simptu.runtime.ws.protocol import Serializer, V1JsonSerializer, V2JsonSerializer
from simptu.runtime.ws.subscriptions import Subscription, Subscriptions


class RecordingSink:
    def __init__(self, serializer: Serializer) -> None:
        self.serializer = serializer
        self.texts: list[str] = []

    async def send_text(self, text: str) -> None:
        self.texts.append(text)


def _joined(subscriptions: Subscriptions, sink: RecordingSink,
            last_event_id: int = -1) -> Subscription:
    subscription = Subscription(sink, "clinic", "chat:s1", "1", last_event_id)
    subscriptions.add(subscription)
    return subscription


async def test_each_subscriber_gets_the_push_in_its_own_protocol_version() -> None:
    subscriptions = Subscriptions()
    v2, v1 = RecordingSink(V2JsonSerializer()), RecordingSink(V1JsonSerializer())
    _joined(subscriptions, v2)
    _joined(subscriptions, v1)

    sent = await subscriptions.broadcast("clinic", "chat:s1", "typing", {"typing": True}, 5)

    assert sent == 2
    assert v2.texts == ['[null,null,"chat:s1","typing",{"typing":true}]']
    assert V1JsonSerializer().decode(v1.texts[0]).payload == {"typing": True}


async def test_an_event_the_subscriber_already_has_is_not_sent_again() -> None:
    subscriptions = Subscriptions()
    sink = RecordingSink(V2JsonSerializer())
    _joined(subscriptions, sink, last_event_id=7)

    for event_id in (6, 7, 8, 8):
        await subscriptions.broadcast("clinic", "chat:s1", "reply", {"n": event_id}, event_id)

    assert [V2JsonSerializer().decode(t).payload for t in sink.texts] == [{"n": 8}]


async def test_live_events_wait_while_the_subscriber_is_replayed() -> None:
    subscriptions = Subscriptions()
    sink = RecordingSink(V2JsonSerializer())
    subscription = _joined(subscriptions, sink)
    subscription.held = []

    await subscriptions.broadcast("clinic", "chat:s1", "reply", {"n": 9}, 9)

    assert sink.texts == []
    assert subscription.held == [(9, "reply", {"n": 9})]


async def test_other_topics_and_tenants_get_nothing() -> None:
    subscriptions = Subscriptions()
    sink = RecordingSink(V2JsonSerializer())
    _joined(subscriptions, sink)

    assert await subscriptions.broadcast("gym", "chat:s1", "reply", {}, 1) == 0
    assert await subscriptions.broadcast("clinic", "chat:s2", "reply", {}, 1) == 0
    assert sink.texts == []
