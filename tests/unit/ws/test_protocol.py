"""The Phoenix frame serializers: version 2.0.0 arrays and 1.0.0 objects, both ways, and the
reasons a text is not a frame."""

from __future__ import annotations

import pytest

from simptu.runtime.ws.protocol import (
    Frame,
    MalformedFrame,
    V1JsonSerializer,
    V2JsonSerializer,
    push,
    reply,
    serializer_for,
)

JOIN = Frame("1", "1", "chat:abc", "phx_join", {"last_event_id": 7})


def test_version_2_reads_the_array_phoenix_js_sends() -> None:
    frame = V2JsonSerializer().decode('["1","1","chat:abc","phx_join",{"last_event_id":7}]')
    assert frame == JOIN


def test_version_2_writes_a_reply_as_an_array_with_the_refs_it_answers() -> None:
    text = V2JsonSerializer().encode(reply(JOIN, "ok", {}))
    assert text == '["1","1","chat:abc","phx_reply",{"status":"ok","response":{}}]'


def test_a_broadcast_push_carries_no_refs() -> None:
    text = V2JsonSerializer().encode(push(None, "chat:abc", "typing", {"typing": True}))
    assert text == '[null,null,"chat:abc","typing",{"typing":true}]'


def test_version_1_reads_and_writes_objects() -> None:
    serializer = V1JsonSerializer()
    text = serializer.encode(JOIN)
    assert serializer.decode(text) == JOIN
    assert text.startswith('{"join_ref":"1","ref":"1","topic":"chat:abc"')


def test_integer_refs_of_older_clients_are_read_as_strings() -> None:
    text = '{"topic":"phoenix","event":"heartbeat","payload":{},"ref":3}'
    frame = V1JsonSerializer().decode(text)
    assert (frame.ref, frame.join_ref) == ("3", None)


@pytest.mark.parametrize(("text", "reason"), [
    ("nope", "not JSON"),
    ("[1, 2, 3]", "the array [join_ref, ref, topic, event, payload]"),
    ('[null, "1", "", "phx_join", {}]', "topic must be a non-empty string"),
    ('[null, "1", "chat:a", "", {}]', "event must be a non-empty string"),
    ('[null, "1", "chat:a", "message", []]', "payload must be a JSON object"),
    ('[true, "1", "chat:a", "message", {}]', "join_ref must be a string or null"),
])
def test_a_text_that_is_not_a_version_2_frame_says_why(text: str, reason: str) -> None:
    with pytest.raises(MalformedFrame, match=reason.replace("[", r"\[").replace("]", r"\]")):
        V2JsonSerializer().decode(text)


def test_the_version_names_its_serializer_and_none_means_1() -> None:
    assert serializer_for("2.0.0").vsn == "2.0.0"
    assert serializer_for(None).vsn == "1.0.0"
    with pytest.raises(MalformedFrame, match="unsupported protocol version"):
        serializer_for("3.0.0")
