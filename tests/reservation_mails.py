"""Reservation e-mails as booking platforms send them, for the tests: Booking.com's (and a
generic confirmation of another platform), DKIM-signed with a key the test makes, whose public
half a DNS hook (`dnsfunc`) answers as the platform's TXT record would."""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
from collections.abc import Callable
from decimal import Decimal
from email.message import EmailMessage
from typing import Literal

from simptu.devstack.standins.booking_com_mail import DkimKey, reservation_mail
from simptu.devstack.standins.booking_com_payloads import QueuedReservation

# Booking.com's words for a change, and the stand-in's reservation status of each.
STATUSES: dict[str, Literal["Commit", "Modify", "Cancel"]] = {
    "New": "Commit", "Modified": "Modify", "Cancelled": "Cancel"}


@functools.cache
def platform_key(domain: str) -> DkimKey:
    """A platform's DKIM key, made once for the test run."""
    return DkimKey.generate(domain)


def dns_of(*keys: DkimKey) -> Callable[..., bytes | None]:
    """A `dnsfunc` that knows these platforms' DKIM records (and nothing else)."""
    records = {f"{key.record_name}.".encode(): key.record.encode() for key in keys}

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return records.get(name)
    return lookup


def _mail(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2].rstrip(">"))
    message.set_content(body)
    return message


def booking_com_mail(reservation_id: str, check_in: dt.date, check_out: dt.date, *,
                     change: str = "New", guest: str = "Ana Pop", room: str = "Double room",
                     to: str = "rezervari@hotel.example") -> EmailMessage:
    """Booking.com's mail to a property (unsigned), as the Booking.com stand-in writes it."""
    given, _, surname = guest.partition(" ")
    return reservation_mail(QueuedReservation(
        property_id="1", reservation_id=reservation_id, status=STATUSES[change],
        given_name=given, surname=surname, check_in=check_in, check_out=check_out,
        room_name=room, total=Decimal(900), currency="RON"), to)


def generic_confirmation(platform: str, reservation_id: str, check_in: dt.date,
                         check_out: dt.date) -> EmailMessage:
    """Another platform's confirmation of Ion Popescu's stay in a double room, in Romanian,
    with the dates written out."""
    return _mail(f"Rezervări <confirmari@{platform}>", "rezervari@hotel.example",
                 f"Confirmare rezervare {reservation_id}",
                 f"Bună ziua,\n\nNumăr rezervare: {reservation_id}\nNume oaspete: Ion Popescu\n"
                 f"Sosire: {check_in:%d.%m.%Y}\nPlecare: {check_out:%d.%m.%Y}\n"
                 "Tip cameră: Cameră dublă\nPreț total: 1.350,00 RON\n")


# The platforms of the tests: Booking.com, another platform the hotel lists, and a forger.
BOOKING = platform_key("booking.com")
OTHER = platform_key("rezervari-online.example")
MALLORY = platform_key("mallory.example")
OTHER_PLATFORMS = (OTHER.domain,)
KNOWN_KEYS = dns_of(BOOKING, OTHER, MALLORY)
