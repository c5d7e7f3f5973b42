"""Reservation mails are recognised by who signed them: Booking.com's (and a listed
platform's) signed mails are read as new, modified or cancelled reservations; an unsigned one,
one signed by someone else, or one changed after signing is for staff; a mail from nobody's
platform is an ordinary mail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from simptu.runtime.channels.booking_com.reservation_mail import (
    read_date,
    read_reservation_mail,
)
from simptu.runtime.channels.booking_com.reservation_mails import dns_with
from tests.reservation_mails import (
    BOOKING,
    KNOWN_KEYS,
    MALLORY,
    OTHER,
    OTHER_PLATFORMS,
    booking_com_mail,
    dns_of,
    generic_confirmation,
)

DNS = KNOWN_KEYS
IN, OUT = dt.date(2027, 6, 1), dt.date(2027, 6, 3)
PLATFORMS = OTHER_PLATFORMS


def test_a_signed_booking_com_mail_is_read_as_a_reservation() -> None:
    found = read_reservation_mail(BOOKING.sign(booking_com_mail("4105223456", IN, OUT)),
                                  PLATFORMS, DNS)
    assert (found.verdict, found.source) == ("reservation", "booking.com")
    reservation = found.reservation
    assert reservation is not None
    assert (reservation.reservation_id, reservation.action, reservation.guest_name,
            reservation.check_in, reservation.check_out, reservation.room_type,
            reservation.total, reservation.currency) == (
        "4105223456", "new", "Ana Pop", IN, OUT, "Double room", Decimal("900.00"), "RON")


@pytest.mark.parametrize(("change", "action"), [("Modified", "modify"),
                                                 ("Cancelled", "cancel")])
def test_modified_and_cancelled_bookings_say_so(change: str, action: str) -> None:
    found = read_reservation_mail(BOOKING.sign(booking_com_mail("4105223456", IN, OUT,
                                                                change=change)), PLATFORMS, DNS)
    assert found.reservation is not None
    assert found.reservation.action == action


def test_another_platforms_romanian_confirmation_is_read() -> None:
    found = read_reservation_mail(OTHER.sign(generic_confirmation(
        "rezervari-online.example", "RO-88412", IN, OUT)), PLATFORMS, DNS)
    assert (found.verdict, found.source) == ("reservation", "rezervari-online.example")
    reservation = found.reservation
    assert reservation is not None
    assert (reservation.reservation_id, reservation.guest_name, reservation.check_in,
            reservation.check_out, reservation.room_type, reservation.total) == (
        "RO-88412", "Ion Popescu", IN, OUT, "Cameră dublă", Decimal("1350.00"))


def test_an_unsigned_mail_from_booking_com_is_for_staff() -> None:
    found = read_reservation_mail(booking_com_mail("4105223456", IN, OUT), PLATFORMS, DNS)
    assert (found.verdict, found.reservation) == ("staff", None)
    assert found.reason.startswith("unsigned")


def test_a_mail_signed_by_someone_else_is_for_staff() -> None:
    found = read_reservation_mail(MALLORY.sign(booking_com_mail("4105223456", IN, OUT)),
                                  PLATFORMS, DNS)
    assert (found.verdict, found.reservation) == ("staff", None)
    assert found.reason.startswith("forged")
    assert "mallory.example" in found.reason


def test_a_signed_mail_changed_afterwards_is_for_staff() -> None:
    signed = BOOKING.sign(booking_com_mail("4105223456", IN, OUT))
    body = signed.get_payload()
    assert isinstance(body, str)
    signed.set_payload(body.replace("Ana Pop", "Mallory"))
    found = read_reservation_mail(signed, PLATFORMS, DNS)
    assert (found.verdict, found.reservation) == ("staff", None)
    assert found.reason.startswith("forged")


def test_a_key_booking_com_does_not_publish_does_not_verify() -> None:
    found = read_reservation_mail(BOOKING.sign(booking_com_mail("4105223456", IN, OUT)),
                                  PLATFORMS, dns_of(OTHER))
    assert found.verdict == "staff"


def test_a_signed_mail_without_a_reservation_number_is_for_staff() -> None:
    message = booking_com_mail("4105223456", IN, OUT)
    message.set_content("Your monthly invoice is ready.")
    found = read_reservation_mail(BOOKING.sign(message), PLATFORMS, DNS)
    assert (found.verdict, found.reason) == ("staff", "not understood: no reservation number")


def test_a_mail_of_no_platform_is_an_ordinary_mail() -> None:
    message = generic_confirmation("elsewhere.example", "1", IN, OUT)
    assert read_reservation_mail(message, PLATFORMS, DNS).verdict == "other"


@pytest.mark.parametrize("written", ["2027-06-01", "01.06.2027", "1 June 2027",
                                     "Tuesday, 1 June 2027", "June 1, 2027", "1 iunie 2027",
                                     "marți, 1 iunie 2027"])
def test_dates_are_read_as_platforms_write_them(written: str) -> None:
    assert read_date(written) == IN


def test_known_dkim_records_are_answered_without_dns() -> None:
    lookup = dns_with({BOOKING.record_name: BOOKING.record})
    found = read_reservation_mail(BOOKING.sign(booking_com_mail("4105223456", IN, OUT)),
                                  PLATFORMS, lookup)
    assert found.verdict == "reservation"
