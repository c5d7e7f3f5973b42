"""An agent restarted mid-reply publishes the reply's deltas again (same message_id and seq,
new Kafka offsets): the stock phoenix.js client gets each part once, live and on resuming, and
the text it renders is the reply's."""

from __future__ import annotations

import uuid

from simptu.runtime.core.chat import conversation as contract

from .conftest import Agent, GuestChat, GuestChats, Replica
from .phoenix_driver import PhoenixDriver


async def _restarted_mid_reply(agent: Agent, chat: GuestChat, pieces: list[str]) -> None:
    """Two deltas, then the restarted agent streams the whole reply again from seq 0."""
    cipher = agent.keyring.cipher(chat.tenant.names)
    message_id = uuid.uuid4()
    for seq, piece in [*enumerate(pieces[:2]), *enumerate(pieces)]:
        await agent.say(chat, contract.REPLY_DELTA, {
            "message_id": str(message_id), "seq": seq,
            "delta_sealed": await contract.seal_text(cipher, message_id, piece)})
    for _ in range(2):  # and the whole reply twice: the restart came before its commit
        await agent.say(chat, contract.REPLY, {
            "message_id": str(message_id), "in_reply_to": None,
            "text_sealed": await contract.seal_text(cipher, message_id, "".join(pieces))})


async def test_a_reply_sent_again_after_an_agent_restart_reaches_the_page_once(
        phoenix: PhoenixDriver, replicas: tuple[Replica, Replica], guest_chat: GuestChats,
        agent: Agent) -> None:
    chat = await guest_chat()
    await phoenix.connect("page", replicas[0].url, chat.token)
    await phoenix.connect("staff", replicas[1].url, chat.token)
    await phoenix.join("page", chat.topic)
    await phoenix.join("staff", chat.topic)

    await _restarted_mid_reply(agent, chat, ["Avem ", "loc ", "joi ", "la 10."])
    await agent.reply(chat, ["Altceva?"])  # a later reply: everything before it was handled
    for socket in ("page", "staff"):
        await phoenix.event(socket, "reply", lambda reply: reply["text"] == "Altceva?")

    for socket in ("page", "staff"):
        deltas = phoenix.events(socket, "reply_delta")
        parts = [(d["message_id"], d["seq"]) for d in deltas]
        assert len(parts) == len(set(parts)) == 5, deltas
        first = [d for d in deltas if d["message_id"] == deltas[0]["message_id"]]
        assert "".join(d["delta"] for d in first) == "Avem loc joi la 10."
        assert [r["text"] for r in phoenix.events(socket, "reply")] == [
            "Avem loc joi la 10.", "Altceva?"]

    # A page that comes back resumes from the log, which holds each part once too.
    logged = await replicas[0].hub.platform.session_log.since(chat.tenant.slug,
                                                              str(chat.session_id), 0)
    parts = [(e["payload"]["message_id"], e["payload"]["seq"]) for e in logged
             if e["event"] == "reply_delta"]
    assert len(parts) == len(set(parts)) == 5
    assert [e["payload"]["text"] for e in logged if e["event"] == "reply"] == [
        "Avem loc joi la 10.", "Altceva?"]
