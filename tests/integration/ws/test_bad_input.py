"""Bad input at the hub, spoken as raw Phoenix frames: each gets a clear error (a refused join,
a `phx_error`, a close code) and every other socket goes on as before."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from .conftest import CLINIC, GYM, Agent, GuestChats, Replica, TokenOf


class RawSocket:
    """A Phoenix socket without phoenix.js: frames as the V2 JSON arrays."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.refs = 0
        self.received: list[list[Any]] = []

    async def send(self, topic: str, event: str, payload: dict[str, Any],
                   join_ref: str | None = None) -> str:
        self.refs += 1
        ref = str(self.refs)
        await self.connection.send(json.dumps([join_ref, ref, topic, event, payload]))
        return ref

    async def frame(self) -> list[Any]:
        frame: list[Any] = json.loads(await self.connection.recv())
        self.received.append(frame)
        return frame

    async def call(self, topic: str, event: str, payload: dict[str, Any],
                   join_ref: str | None = None) -> dict[str, Any]:
        """The reply to one frame (pushes that come before it are kept in `received`)."""
        ref = await self.send(topic, event, payload, join_ref)
        while True:
            frame = await self.frame()
            if frame[1] == ref and frame[3] == "phx_reply":
                return dict(frame[4])

    async def join(self, topic: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.call(topic, "phx_join", params or {}, join_ref=str(self.refs + 1))

    async def heartbeat(self) -> dict[str, Any]:
        return await self.call("phoenix", "heartbeat", {})


@pytest.fixture
async def open_socket(replicas: tuple[Replica, Replica]) -> AsyncIterator[Any]:
    opened: list[ClientConnection] = []

    async def open_one(token: str, replica: int = 0) -> RawSocket:
        connection = await connect(
            f"{replicas[replica].url}/websocket?vsn=2.0.0&token={token}", max_size=None)
        opened.append(connection)
        return RawSocket(connection)

    yield open_one
    for connection in opened:
        await connection.close()


async def test_a_join_of_an_unknown_topic_is_refused_and_the_socket_stays_usable(
        open_socket: Any, guest_chat: GuestChats) -> None:
    socket = await open_socket((await guest_chat()).token)
    refused = await socket.join("lobby:42")
    assert refused["status"] == "error"
    assert refused["response"]["reason"] == "unknown-topic"
    assert (await socket.heartbeat())["status"] == "ok"


async def test_a_bad_or_forged_token_gets_an_error_reply_to_every_join(
        open_socket: Any, guest_chat: GuestChats) -> None:
    chat = await guest_chat()
    forged = chat.token[:-4] + ("AAAA" if not chat.token.endswith("AAAA") else "BBBB")
    for token in ("nonsense", forged):
        socket = await open_socket(token)
        refused = await socket.join(chat.topic)
        assert refused["status"] == "error"
        assert refused["response"]["reason"] == "invalid-token"


async def test_a_join_of_another_tenants_session_is_refused_and_gets_nothing_of_it(
        open_socket: Any, guest_chat: GuestChats, agent: Agent, token_of: TokenOf) -> None:
    gym_chat, clinic_chat = await guest_chat(GYM), await guest_chat(CLINIC)
    intruders = [await open_socket(clinic_chat.token),
                 await open_socket(await token_of(CLINIC, "staff"))]
    refusals = [await intruder.join(gym_chat.topic) for intruder in intruders]
    owner = await open_socket(gym_chat.token)
    await owner.join(gym_chat.topic)

    await agent.reply(gym_chat, ["private"])
    while (await owner.frame())[3] != "reply":
        pass

    assert [r["response"]["reason"] for r in refusals] == ["unknown-session"] * 2
    for intruder in intruders:
        await intruder.heartbeat()  # anything pushed to it would have come before this reply
        assert [frame[3] for frame in intruder.received] == ["phx_reply", "phx_reply"]


async def test_a_customer_may_not_join_a_conversation_that_is_not_theirs(
        open_socket: Any, guest_chat: GuestChats, token_of: TokenOf) -> None:
    chat = await guest_chat()
    socket = await open_socket(await token_of(CLINIC, "customer"))
    refused = await socket.join(chat.topic)
    assert refused["response"]["reason"] == "unknown-session"


async def test_the_inbox_is_refused_to_customers_and_to_staff_of_another_tenant(
        open_socket: Any, token_of: TokenOf) -> None:
    customer = await open_socket(await token_of(CLINIC, "customer"))
    staff = await open_socket(await token_of(CLINIC, "staff"))
    for socket, topic in ((customer, f"inbox:{CLINIC}"), (staff, f"inbox:{GYM}")):
        refused = await socket.join(topic)
        assert refused["response"]["reason"] == "forbidden"


async def test_malformed_frames_get_a_phx_error_and_the_socket_keeps_working(
        open_socket: Any, guest_chat: GuestChats) -> None:
    socket = await open_socket((await guest_chat()).token)
    errors = []
    for text in ("not json", "[1, 2]"):
        await socket.connection.send(text)
        errors.append(await socket.frame())
    assert [frame[2:4] for frame in errors] == [["phoenix", "phx_error"]] * 2
    assert "not JSON" in errors[0][4]["detail"]
    assert "[join_ref, ref, topic, event, payload]" in errors[1][4]["detail"]
    assert (await socket.heartbeat())["status"] == "ok"


async def test_a_socket_that_sends_only_garbage_is_closed_and_others_are_unaffected(
        open_socket: Any, guest_chat: GuestChats) -> None:
    chat = await guest_chat()
    rude, polite = await open_socket(chat.token), await open_socket(chat.token)
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(10):
            await rude.connection.send("{{{")
            await rude.frame()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008
    assert (await polite.heartbeat())["status"] == "ok"


async def test_an_oversized_frame_closes_only_its_socket_with_1009(
        open_socket: Any, guest_chat: GuestChats) -> None:
    chat = await guest_chat()
    big, other = await open_socket(chat.token), await open_socket(chat.token)
    await big.join(chat.topic)
    with pytest.raises(ConnectionClosed) as closed:
        await big.send(chat.topic, "message", {"text": "x" * 20_000}, join_ref="1")
        await big.frame()
        await big.frame()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
    assert (await other.heartbeat())["status"] == "ok"


async def test_a_message_that_is_too_long_or_has_no_text_is_refused(
        open_socket: Any, guest_chat: GuestChats) -> None:
    chat = await guest_chat()
    socket = await open_socket(chat.token)
    joined = await socket.join(chat.topic)
    assert joined["status"] == "ok"
    too_long = await socket.call(chat.topic, "message", {"text": "x" * 4001}, join_ref="1")
    empty = await socket.call(chat.topic, "message", {"client_msg_id": "a"}, join_ref="1")
    assert too_long["response"]["reason"] == "text-too-long"
    assert empty["response"]["reason"] == "invalid-payload"
    assert empty["response"]["detail"].startswith("text:")


async def test_an_event_on_a_topic_not_joined_is_answered_unmatched_topic(
        open_socket: Any, guest_chat: GuestChats) -> None:
    chat = await guest_chat()
    socket = await open_socket(chat.token)
    answer = await socket.call(chat.topic, "message", {"text": "hi"})
    assert answer["response"]["reason"] == "unmatched topic"


async def test_a_socket_url_of_an_unknown_protocol_version_is_refused_with_400(
        replicas: tuple[Replica, Replica]) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(f"{replicas[0].url}/websocket?vsn=9.9.9&token=x")
    assert refused.value.response.status_code == 400


async def test_health_readiness_and_metrics_answer_on_the_socket_port(
        replicas: tuple[Replica, Replica]) -> None:
    base = replicas[0].url.replace("ws://", "http://").removesuffix("/socket")
    async with httpx.AsyncClient(base_url=base) as http:
        health, ready, metrics = [await http.get(path)
                                  for path in ("/healthz", "/readyz", "/metrics")]
    assert health.json() == {"status": "ok"}
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok", "kafka": "ok",
                                      "openbao": "ok", "outbound-reader": "ok"}
    assert "simptu_ws_joins_total" in metrics.text


async def test_a_session_id_that_is_not_a_uuid_is_refused(
        open_socket: Any, guest_chat: GuestChats) -> None:
    socket = await open_socket((await guest_chat()).token)
    refused = await socket.join(f"chat:{uuid.uuid4().hex[:8]}")
    assert refused["response"]["reason"] == "unknown-session"
