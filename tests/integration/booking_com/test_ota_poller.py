"""The OTA poller against the Booking.com stand-in: what it stores it acknowledges, and a
poller that stops after storing but before acknowledging (Booking.com's answer lost, or the
process stopped) gets the same reservations again and stores nothing twice. Guest messages of
the messaging API become messages of the guest's conversation, once, then are confirmed."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from simptu.runtime.channels.booking_com.client import BookingComClient
from simptu.runtime.channels.booking_com.ota import Feed
from simptu.runtime.channels.booking_com.poller import BookingComPoller, Polled
from simptu.runtime.channels.send_errors import SendError
from simptu.runtime.core.channels.accounts import ChannelAccount
from simptu.runtime.core.channels.faults import clear_fault, faults_of

from .conftest import PROPERTY, BookingCom, Hotel, new_reservation_id, stay


async def test_the_poller_stores_then_acknowledges(hotel: Hotel, booking_com: BookingCom,
                                                   poller: BookingComPoller) -> None:
    reservation_id = new_reservation_id()
    await booking_com.reserve(reservation_id, *stay(2), given_name="Ana", surname="Pop")
    polled = await poller.poll(hotel.record)
    assert polled == Polled(reservations=1, messages=0)
    [reservation] = await hotel.fetch("SELECT * FROM reservations")
    assert (reservation["reservation_id"], reservation["status"]) == (reservation_id, "booked")
    [booking] = await hotel.fetch("SELECT * FROM bookings")
    assert booking["id"] == reservation["booking_id"]
    assert await hotel.guest_names() == ["Ana Pop"]
    assert [a["reservation_id"] for a in booking_com.standin.state.acks] == [reservation_id]
    assert booking_com.standin.state.pending == []
    assert await poller.poll(hotel.record) == Polled()  # nothing left to fetch


async def test_modifications_and_cancellations_are_applied_and_acknowledged(
        hotel: Hotel, booking_com: BookingCom, poller: BookingComPoller) -> None:
    reservation_id = new_reservation_id()
    await booking_com.reserve(reservation_id, *stay(2))
    await poller.poll(hotel.record)
    later = stay(3, after=4)
    await booking_com.reserve(reservation_id, *later, status="Modify")
    await poller.poll(hotel.record)
    [booking] = await hotel.fetch("SELECT start_at, end_at, status FROM bookings")
    assert booking["start_at"].date() == later[0]
    assert (booking["end_at"] - booking["start_at"]).days == 2  # 14:00 to 11:00, 3 nights
    await booking_com.reserve(reservation_id, *later, status="Cancel")
    await poller.poll(hotel.record)
    assert [r["status"] for r in await hotel.fetch("SELECT status FROM bookings")] == [
        "cancelled"]
    assert [(a["feed"], a["reservation_id"]) for a in booking_com.standin.state.acks] == [
        ("OTA_HotelResNotif", reservation_id), ("OTA_HotelResModifyNotif", reservation_id),
        ("OTA_HotelResModifyNotif", reservation_id)]


class StopsBeforeAcknowledging(BookingComClient):
    """A poller's client whose process stops (its task cancelled, as SIGTERM does) when it is
    about to acknowledge."""

    async def acknowledge(self, account: ChannelAccount, feed: Feed, document: bytes) -> None:
        raise asyncio.CancelledError


@pytest.mark.parametrize("stop", ["acknowledgement lost", "poller stopped"])
async def test_a_stop_before_the_acknowledgement_stores_nothing_twice(
        hotel: Hotel, booking_com: BookingCom, poller: BookingComPoller, stop: str) -> None:
    reservation_id = new_reservation_id()
    await booking_com.reserve(reservation_id, *stay(2))
    if stop == "acknowledgement lost":
        await booking_com.control("faults", {"path": "/hotels/ota/OTA_HotelResNotif",
                                             "method": "POST", "status": 503})
        with pytest.raises(SendError):
            await poller.poll(hotel.record)
    else:
        stopping = dataclasses.replace(poller, client=StopsBeforeAcknowledging(
            poller.client.http, poller.client.ota_url, poller.client.messaging_url))
        with pytest.raises(asyncio.CancelledError):
            await stopping.poll(hotel.record)
    assert len(await hotel.fetch("SELECT * FROM bookings")) == 1  # stored before it stopped
    assert booking_com.standin.state.acks == []
    assert len(booking_com.standin.state.pending) == 1  # Booking.com sends it again
    assert await poller.poll(hotel.record) == Polled(reservations=1)
    assert len(await hotel.fetch("SELECT * FROM bookings")) == 1
    assert len(await hotel.fetch("SELECT * FROM reservations")) == 1
    assert await hotel.guest_names() == ["Ana Pop"]
    assert [a["reservation_id"] for a in booking_com.standin.state.acks] == [reservation_id]
    assert booking_com.standin.state.pending == []


async def test_a_guest_message_is_posted_to_the_guests_conversation_once(
        hotel: Hotel, booking_com: BookingCom, poller: BookingComPoller) -> None:
    message = {"property_id": PROPERTY, "conversation_id": "conv-1",
               "reservation_id": "4105551234", "message_id": "msg-1",
               "content": "Bună ziua, aveți parcare?"}
    await booking_com.control("messages", [message, {**message, "message_id": "echo",
                                                     "participant_type": "PROPERTY",
                                                     "content": "Our own reply"}])
    await booking_com.control("faults", {"path": "/messaging/messages", "method": "PUT"})
    with pytest.raises(SendError):  # posted, but the confirmation failed
        await poller.poll(hotel.record)
    assert await poller.poll(hotel.record) == Polled(messages=0)  # the same again: dropped
    await booking_com.control("messages", message)  # Booking.com delivers it once more
    assert await poller.poll(hotel.record) == Polled(messages=0)
    [session] = await hotel.fetch("SELECT * FROM chat_sessions WHERE channel = 'booking_com'")
    messages = await hotel.fetch("SELECT author, client_msg_id FROM chat_messages "
                                 "WHERE session_id = $1 AND author = 'customer'", session["id"])
    assert [(m["author"], m["client_msg_id"]) for m in messages] == [
        ("customer", "booking_com:msg-1")]
    confirms = [c for c in booking_com.standin.state.calls
                if c["method"] == "PUT" and c["status"] == 200]
    assert len(confirms) == 2


async def test_a_refused_machine_account_is_a_fault_people_see(
        hotel: Hotel, booking_com: BookingCom, poller: BookingComPoller) -> None:
    await booking_com.control("accounts", {"username": booking_com.account.credentials[
        "username"], "password": "rotated-at-booking-com", "property_ids": [PROPERTY]})
    try:
        assert await poller.poll(hotel.record) == Polled()
        [fault] = await faults_of(hotel.db, hotel.names.slug)
        assert (fault.channel, fault.code) == ("booking_com", "401")
        assert "put a valid one in the channel's Secret" in fault.described()
    finally:
        await clear_fault(hotel.db, hotel.names.slug, "booking_com")
