"""CloudEvents in structured JSON: what goes out comes back the same; anything else is refused."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from simptu.runtime.core.events.cloudevents import CloudEvent, InvalidCloudEvent
from simptu.runtime.core.events.retry import Backoff
from simptu.runtime.core.events.topics import tenant_of_topic

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def received(**attributes: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": "e-1", "source": "/ws/chat",
            "type": "io.simptu.chat.message.received", "tenantid": "acme-dental",
            "time": "2026-01-02T03:04:05.678Z", "data": {"text": "hi"}} | attributes


def test_an_event_comes_back_from_bytes_exactly_as_it_was_sent() -> None:
    event = CloudEvent.model_validate({
        "source": "/ws/chat", "type": "io.simptu.chat.message.received",
        "tenantid": "acme-dental", "subject": "session-42", "traceparent": TRACEPARENT,
        "data": {"text": "Hello", "attachments": [1, 2.5, None, True]},
        "channel": "web"})  # an extension attribute
    assert CloudEvent.from_bytes(event.to_bytes()) == event


def test_the_wire_format_is_cloudevents_structured_json() -> None:
    event = CloudEvent(source="/ws/chat", type="io.simptu.chat.message.received",
                       tenantid="acme-dental", data={"text": "Hello"})
    wire = json.loads(event.to_bytes())
    assert wire["specversion"] == "1.0"
    assert wire["tenantid"] == "acme-dental"
    assert wire["datacontenttype"] == "application/json"
    assert wire["time"].endswith("Z")
    assert "subject" not in wire  # absent attributes are omitted, not null


def test_a_new_event_gets_a_fresh_id_and_the_current_utc_time() -> None:
    before = dt.datetime.now(dt.UTC)
    first, second = (CloudEvent(source="/api", type="io.simptu.booking.created",
                                tenantid="gym-one") for _ in range(2))
    assert first.id != second.id
    assert first.time >= before
    assert first.time.utcoffset() == dt.timedelta(0)


def test_a_received_event_keeps_its_id_and_time() -> None:
    event = CloudEvent.from_bytes(json.dumps(received()).encode())
    assert event.id == "e-1"
    assert event.time == dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)


@pytest.mark.parametrize(("raw", "complaint"), [
    (b"\xff\xfe not utf-8", "not UTF-8 JSON"),
    (b"{not json", "not UTF-8 JSON"),
    (b"[1, 2]", "JSON object"),
    (json.dumps({k: v for k, v in received().items() if k != "id"}).encode(), "missing id"),
    (json.dumps({k: v for k, v in received().items() if k != "tenantid"}).encode(),
     "missing tenantid"),
    (json.dumps(received(specversion="0.3")).encode(), "specversion"),
    (json.dumps(received(id="")).encode(), "id"),
    (json.dumps(received(source="")).encode(), "source"),
    (json.dumps(received(type="received")).encode(), "io.simptu.chat.message.received"),
    (json.dumps(received(tenantid="Not A Slug")).encode(), "DNS label"),
    (json.dumps(received(time="2026-01-02T03:04:05")).encode(), "time"),
    (json.dumps(received(time="yesterday")).encode(), "time"),
    (json.dumps(received(traceparent="00-abc")).encode(), "W3C"),
    (json.dumps(received(data_base64="aGk=")).encode(), "data_base64"),
    (json.dumps(received(Channel="web")).encode(), "Channel"),
    (json.dumps(received(channel={"nested": 1})).encode(), "string, integer or boolean"),
])
def test_a_malformed_event_is_rejected_with_a_message_saying_why(raw: bytes,
                                                                  complaint: str) -> None:
    with pytest.raises(InvalidCloudEvent, match=complaint):
        CloudEvent.from_bytes(raw)


def test_an_invalid_event_cannot_be_built() -> None:
    with pytest.raises(ValidationError, match="tenantid"):
        CloudEvent(source="/api", type="io.simptu.booking.created", tenantid="")
    with pytest.raises(ValidationError, match="type"):
        CloudEvent(source="/api", type="booking", tenantid="gym-one")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@given(data=JSON, subject=st.none() | st.text(min_size=1))
def test_any_json_data_survives_the_round_trip(data: Any, subject: str | None) -> None:
    event = CloudEvent(source="/agent", type="io.simptu.chat.reply.delta", tenantid="hotel-x",
                       subject=subject, data=data)
    assert CloudEvent.from_bytes(event.to_bytes()) == event


def test_only_simptu_tenant_streams_name_a_tenant() -> None:
    assert tenant_of_topic("simptu.acme-dental.inbound") == "acme-dental"
    assert tenant_of_topic("simptu.acme-dental.events") == "acme-dental"
    assert tenant_of_topic("simptu.acme-dental.scratch") is None
    assert tenant_of_topic("other.acme.inbound") is None


def test_backoff_doubles_and_is_bounded() -> None:
    backoff = Backoff(first=0.5, longest=3.0)
    assert [backoff.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
