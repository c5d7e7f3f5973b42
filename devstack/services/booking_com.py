"""The stand-in of Booking.com's Connectivity APIs (`python -m
simptu.devstack.standins.booking_com`) as a local process: the channel senders' poller and
replies reach it at SIMPTU_BOOKING_COM_OTA_URL and _MESSAGING_URL, and it knows every demo
tenant's Booking.com machine account and property. It also mails reservations as Booking.com
does, to the stack's SMTP server, DKIM-signed with a key of booking.com made for this stack,
which the channel senders trust (SIMPTU_RESERVATION_MAIL_DKIM_RECORDS)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from simptu.devstack.demo_channels import demo_booking_com_properties
from simptu.devstack.services.base import Context
from simptu.devstack.services.standins import SaasStandin
from simptu.devstack.standins.booking_com_mail import DkimKey


class BookingCom(SaasStandin):
    name = "booking-com"
    module = "booking_com"
    control = "accounts"

    def demo_accounts(self) -> list[dict[str, Any]]:
        return [found.account for found in demo_booking_com_properties()]

    def dkim_key_file(self, ctx: Context) -> Path:
        return ctx.folder(self.name) / "dkim-booking.com.pem"

    def dkim_key(self, ctx: Context) -> DkimKey:
        """The stand-in's booking.com DKIM key, made in the stack's state the first time."""
        return DkimKey.kept_in(self.dkim_key_file(ctx), "booking.com")

    def extra_args(self, ctx: Context) -> list[str]:
        return ["--smtp-url", f"smtp://{ctx.settings.host}:{ctx.settings.mail_smtp_port}",
                "--dkim-key", str(self.dkim_key_file(ctx))]

    def env(self, ctx: Context) -> dict[str, str]:
        key = self.dkim_key(ctx)
        return {"SIMPTU_BOOKING_COM_OTA_URL": self.url(ctx),
                "SIMPTU_BOOKING_COM_MESSAGING_URL": self.url(ctx),
                # Tokens from the exchange, as Booking.com wants machine accounts to use now.
                "SIMPTU_BOOKING_COM_AUTH_URL": self.url(ctx),
                # The stack's channel senders trust the stand-in's key as booking.com's.
                "SIMPTU_RESERVATION_MAIL_DKIM_RECORDS": json.dumps({key.record_name:
                                                                    key.record})}

    def hint(self, ctx: Context) -> str:
        return (f"Booking.com stand-in: {self.url(ctx)}. A reservation for the demo hotel, "
                "which the channel senders fetch, book and acknowledge within seconds:\n"
                f"  curl -s -XPOST {self.url(ctx)}/_standin/reservations -H 'Content-Type: "
                "application/json' -d '{\"property_id\": \"7654321\", \"reservation_id\": "
                "\"4105000001\", \"given_name\": \"Ana\", \"surname\": \"Pop\", \"check_in\": "
                "\"2027-06-01\", \"check_out\": \"2027-06-03\", \"room_name\": \"Double room\"}'\n"
                f"  curl -s {self.url(ctx)}/_standin/acks\n"
                "The same by e-mail, as Booking.com mails the hotel (DKIM-signed), booked by "
                "the mail ingest: POST the same JSON with \"to\": "
                "\"rezervari@hotel-carpati.example\" to /_standin/mails.")

    def port(self, ctx: Context) -> int:
        return ctx.settings.booking_com_port
