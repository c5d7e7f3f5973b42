"""Reservation mails through the mail ingest's dispatch (as every ingested mail goes): a
Booking.com reservation mail becomes a booking once however often it comes, its modification
moves it, its cancellation cancels it; an unsigned or forged one, or one that cannot be booked,
is handed to staff in a conversation with its sender, nothing booked. Another platform's
signed confirmation is booked the same way."""

from __future__ import annotations

import datetime as dt
import email.message
import email.policy

import pytest
import redis.asyncio as aioredis

from simptu.runtime.channels.booking_com.poller import BookingComPoller, Polled
from simptu.runtime.channels.booking_com.reservation_mails import ReservationMails
from simptu.runtime.channels.email.dispatch import MailDispatch
from simptu.runtime.channels.email.parse import parse_mail
from simptu.runtime.core.chat.actions import Conversations
from tests import reservation_mails as platform

from .conftest import BookingCom, Hotel, new_reservation_id, stay

MAILBOX = "rezervari@hotel.example"


@pytest.fixture
def dispatch(hotel: Hotel, redis_client: aioredis.Redis) -> MailDispatch:
    conversations = Conversations(hotel.db, hotel.key_ring, redis_client, "/simptu/tests", 4000)
    mails = ReservationMails(conversations, platform.OTHER_PLATFORMS, platform.KNOWN_KEYS)
    return MailDispatch(conversations, [mails.recognise])


def from_booking_com(reservation_id: str, check_in: dt.date, check_out: dt.date,
                     **details: str) -> email.message.EmailMessage:
    """Booking.com's mail, signed by Booking.com."""
    return platform.BOOKING.sign(platform.booking_com_mail(reservation_id, check_in, check_out,
                                                           **details))


async def deliver(dispatch: MailDispatch, hotel: Hotel, message: email.message.EmailMessage,
                  ) -> str:
    """What the ingest does with the mail as it arrives from the mail server."""
    return await dispatch.dispatch(hotel.record, MAILBOX,
                                   parse_mail(message.as_bytes(policy=email.policy.SMTP)))


async def test_a_reservation_mail_sent_twice_is_booked_once(
        dispatch: MailDispatch, hotel: Hotel) -> None:
    reservation_id = new_reservation_id()
    mail = from_booking_com(reservation_id, *stay(2), to=MAILBOX)
    assert await deliver(dispatch, hotel, mail) == "handled"
    assert await deliver(dispatch, hotel, mail) == "duplicate"
    resent = platform.booking_com_mail(reservation_id, *stay(2), to=MAILBOX)  # a new Message-ID
    assert await deliver(dispatch, hotel, platform.BOOKING.sign(resent)) == "handled"
    [booking] = await hotel.fetch("SELECT * FROM bookings")
    [reservation] = await hotel.fetch("SELECT * FROM reservations")
    assert (reservation["source"], reservation["reservation_id"], reservation["booking_id"],
            reservation["status"]) == ("booking.com", reservation_id, booking["id"], "booked")
    assert await hotel.guest_names() == ["Ana Pop"]
    assert await hotel.fetch("SELECT id FROM chat_sessions") == []  # nothing for the agent


async def test_a_modification_mail_moves_and_a_cancellation_mail_cancels(
        dispatch: MailDispatch, hotel: Hotel) -> None:
    reservation_id = new_reservation_id()
    await deliver(dispatch, hotel, from_booking_com(reservation_id, *stay(2)))
    later = stay(2, after=10)
    await deliver(dispatch, hotel, from_booking_com(reservation_id, *later, change="Modified"))
    [booking] = await hotel.fetch("SELECT start_at, status FROM bookings")
    assert (booking["start_at"].date(), booking["status"]) == (later[0], "booked")
    await deliver(dispatch, hotel, from_booking_com(reservation_id, *later, change="Cancelled"))
    [booking] = await hotel.fetch("SELECT start_at, status FROM bookings")
    assert booking["status"] == "cancelled"


async def test_another_platforms_signed_confirmation_is_booked(
        dispatch: MailDispatch, hotel: Hotel) -> None:
    mail = platform.OTHER.sign(platform.generic_confirmation(platform.OTHER.domain, "RO-7731",
                                                             *stay(3)))
    assert await deliver(dispatch, hotel, mail) == "handled"
    [row] = await hotel.fetch("SELECT r.source, s.name FROM reservations r JOIN bookings b "
                              "ON b.id = r.booking_id JOIN services s ON s.id = b.service_id")
    assert (row["source"], row["name"]) == ("rezervari-online.example", "Double room")


@pytest.mark.parametrize("made", ["unsigned", "signed by another domain", "changed after"])
async def test_an_unsigned_or_forged_reservation_mail_is_handed_to_staff(
        dispatch: MailDispatch, hotel: Hotel, made: str) -> None:
    mail = platform.booking_com_mail(new_reservation_id(), *stay(2), guest="Ana Pop")
    if made == "signed by another domain":
        mail = platform.MALLORY.sign(mail)
    elif made == "changed after":
        mail = platform.BOOKING.sign(mail)
        body = mail.get_payload()
        assert isinstance(body, str)
        mail.set_payload(body.replace("Check-in:", "Check-in: ").replace("RON 900", "RON 9"))
    assert await deliver(dispatch, hotel, mail) == "handled"
    assert await hotel.fetch("SELECT id FROM bookings") == []
    assert await hotel.fetch("SELECT * FROM reservations") == []
    [session] = await hotel.fetch("SELECT * FROM chat_sessions")
    assert (session["channel"], session["status"], session["handed_off_by"]) == (
        "email", "handed_off", "system:reservations")
    [message] = await hotel.fetch("SELECT author FROM chat_messages WHERE session_id = $1",
                                  session["id"])
    assert message["author"] == "customer"


async def test_a_reservation_that_cannot_be_booked_is_handed_to_staff(
        dispatch: MailDispatch, hotel: Hotel) -> None:
    mail = from_booking_com(new_reservation_id(), *stay(2), room="Penthouse")
    assert await deliver(dispatch, hotel, mail) == "handled"
    [reservation] = await hotel.fetch("SELECT status, detail FROM reservations")
    assert (reservation["status"], reservation["detail"]) == (
        "with_staff", "no room type named 'Penthouse'")
    [session] = await hotel.fetch("SELECT status FROM chat_sessions")
    assert session["status"] == "handed_off"



async def test_a_reservation_both_mailed_and_in_the_feed_is_booked_once(
        dispatch: MailDispatch, hotel: Hotel, booking_com: BookingCom,
        poller: BookingComPoller) -> None:
    """Booking.com mails a reservation the poller has not acknowledged yet (it was away);
    when the feed brings it too, it is the same reservation."""
    reservation_id, dates = new_reservation_id(), stay(2)
    assert await deliver(dispatch, hotel, from_booking_com(reservation_id, *dates)) == "handled"
    await booking_com.reserve(reservation_id, *dates)
    assert await poller.poll(hotel.record) == Polled(reservations=1)  # applied, acknowledged
    assert len(await hotel.fetch("SELECT id FROM bookings")) == 1
    assert await hotel.guest_names() == ["Ana Pop"]
