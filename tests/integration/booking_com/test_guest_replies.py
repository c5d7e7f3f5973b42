"""A reply in a Booking.com guest conversation goes back through the messaging API, to that
conversation of the property, once (the channel senders' record-then-send)."""

from __future__ import annotations

import base64

import httpx

from simptu.runtime.channels.booking_com.client import BookingComClient
from simptu.runtime.channels.booking_com.poller import BookingComPoller
from simptu.runtime.channels.meta.graph import GraphClient
from simptu.runtime.channels.sender import ChannelSender
from simptu.runtime.channels.twilio.sms import TwilioSms
from simptu.runtime.core.channels.accounts import ChannelAccounts
from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.chat import store
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events import CloudEvent

from .conftest import PROPERTY, BookingCom, Hotel


async def test_a_reply_reaches_the_guests_conversation_once(
        hotel: Hotel, booking_com: BookingCom, poller: BookingComPoller) -> None:
    await booking_com.control("messages", {
        "property_id": PROPERTY, "conversation_id": "conv-7", "message_id": "m-7",
        "reservation_id": "4105550007", "content": "Can we check in at 22:00?"})
    await poller.poll(hotel.record)
    [session] = await hotel.fetch("SELECT id FROM chat_sessions WHERE channel = 'booking_com'")
    async with TenantUnitOfWork(hotel.db, hotel.names) as conn:
        row, sealed = await store.add_message(conn, hotel.key_ring.cipher(hotel.names, conn),
                                              session["id"], "agent", None,
                                              "Yes, the reception is open all night.")
    reply = contract.Reply(session_id=session["id"], message_id=row["id"], seq=row["seq"],
                           text_sealed=base64.b64encode(sealed).decode(), in_reply_to=None)
    event = CloudEvent(source="/simptu/agent", type=contract.REPLY, tenantid=hotel.names.slug,
                       subject=str(session["id"]), data=reply.model_dump(mode="json"))
    async with httpx.AsyncClient(timeout=5) as http:
        sender = ChannelSender(
            hotel.db, hotel.key_ring, ChannelAccounts(hotel.db, hotel.key_ring),
            GraphClient(http, "http://127.0.0.1:9", "v24.0"),
            TwilioSms("http://127.0.0.1:9", "http://127.0.0.1:9", 1), 2, 0.01,
            booking_com=BookingComClient(http, booking_com.standin.url,
                                         booking_com.standin.url))
        assert await sender.handle(event)
        assert await sender.handle(event)  # delivered again: nothing sent again
    replies = booking_com.standin.state.replies
    assert [(r["property_id"], r["conversation_id"], r["content"]) for r in replies] == [
        (PROPERTY, "conv-7", "Yes, the reception is open all night.")]
    [delivery] = await hotel.fetch("SELECT status, provider_message_id FROM channel_deliveries")
    assert (delivery["status"], delivery["provider_message_id"]) == (
        "sent", replies[0]["message_id"])
