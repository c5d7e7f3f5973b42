"""Reservation mails through the stack's real mail path: the Booking.com stand-in mails the
demo hotel as Booking.com does (DKIM-signed with the key the stack's channel senders trust for
booking.com), Postfix delivers to Dovecot, the senders' IMAP ingest dispatches each mail once.
A reservation mail that arrives twice is booked once, its modification moves the booking, its
cancellation cancels it; the same mail unsigned is handed to staff, nothing booked."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from simptu.devstack.demo_channels import demo_booking_com_property
from simptu.devstack.envfile import StackEnv
from simptu.runtime.channels.email.threads import id_index
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.channels.conftest import until

HOTEL = TenantNames("hotel-carpati-brasov")
MAILBOX = "rezervari@hotel-carpati.example"


@dataclass
class Mails:
    http: httpx.AsyncClient
    db: asyncpg.Pool
    key_ring: KeyRing
    reservation_id: str
    check_in: dt.date

    async def send(self, status: str = "Commit", *, after: int = 0, times: int = 1,
                   signed: bool = True) -> str:
        """Booking.com's mail of the reservation (`status` Commit, Modify, Cancel), sent
        `times` times; once the ingest has dispatched it, its Message-ID."""
        check_in = self.check_in + dt.timedelta(days=after)
        answer = await self.http.post("/_standin/mails", json={
            "property_id": demo_booking_com_property(HOTEL.slug).property_id,
            "reservation_id": self.reservation_id, "status": status, "given_name": "Ana",
            "surname": "Pop", "check_in": str(check_in),
            "check_out": str(check_in + dt.timedelta(days=2)), "room_name": "Double room",
            "to": MAILBOX, "times": times, "signed": signed})
        answer.raise_for_status()
        message_id: str = answer.json()["message_id"]
        await until(self.dispatched(message_id))
        return message_id

    def dispatched(self, message_id: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            async with TenantUnitOfWork(self.db, HOTEL) as conn:
                index = await id_index(self.key_ring.cipher(HOTEL, conn), message_id)
                return bool(await conn.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM email_messages WHERE message_index = $1)",
                    index))
        return check

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with TenantUnitOfWork(self.db, HOTEL) as conn:
            return list(await conn.fetch(query, *args))

    async def booking(self) -> list[asyncpg.Record]:
        return await self.fetch(
            "SELECT b.* FROM reservations r JOIN bookings b ON b.id = r.booking_id "
            "WHERE r.source = 'booking.com' AND r.reservation_id = $1", self.reservation_id)


@pytest.fixture
async def mails(stack: StackEnv, db: asyncpg.Pool, key_ring: KeyRing) -> AsyncIterator[Mails]:
    async with httpx.AsyncClient(base_url=stack.values["SIMPTU_BOOKING_COM_OTA_URL"],
                                 timeout=30) as http:
        made = Mails(http, db, key_ring, str(random.randrange(10**9, 10**10)),  # noqa: S311
                     dt.date.today() + dt.timedelta(days=random.randrange(400, 4000)))  # noqa: S311
        yield made
        if await made.booking():  # the room is free again for the next run
            await made.send("Cancel")


async def test_a_reservation_mail_that_arrives_twice_is_booked_once_then_moved_and_cancelled(
        mails: Mails) -> None:
    await mails.send(times=2)
    await mails.send()  # Booking.com sends it again, as a new mail
    [booked] = await mails.booking()
    assert (booked["status"], booked["start_at"].date()) == ("booked", mails.check_in)
    await mails.send("Modify", after=3)
    [moved] = await mails.booking()
    assert (moved["id"], moved["start_at"].date()) == (
        booked["id"], mails.check_in + dt.timedelta(days=3))
    await mails.send("Cancel")
    [cancelled] = await mails.booking()
    assert (cancelled["id"], cancelled["status"]) == (booked["id"], "cancelled")


async def test_an_unsigned_reservation_mail_is_handed_to_staff_not_booked(mails: Mails) -> None:
    message_id = await mails.send(signed=False)
    assert await mails.fetch("SELECT 1 FROM reservations WHERE reservation_id = $1",
                             mails.reservation_id) == []
    [session] = await mails.fetch(
        "SELECT s.channel, s.status, s.handed_off_by FROM chat_messages m JOIN chat_sessions s "
        "ON s.id = m.session_id WHERE m.client_msg_id = $1", f"email:{message_id}")
    assert (session["channel"], session["status"], session["handed_off_by"]) == (
        "email", "handed_off", "system:reservations")
