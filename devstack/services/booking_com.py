"""The stand-in of Booking.com's Connectivity APIs (`python -m
simptu.devstack.standins.booking_com`) as a local process: the channel senders' poller and
replies reach it at SIMPTU_BOOKING_COM_OTA_URL and _MESSAGING_URL, and it knows every demo
tenant's Booking.com machine account and property."""

from __future__ import annotations

from typing import Any

from simptu.devstack.demo_channels import demo_booking_com_properties
from simptu.devstack.services.base import Context
from simptu.devstack.services.standins import SaasStandin


class BookingCom(SaasStandin):
    name = "booking-com"
    module = "booking_com"
    control = "accounts"

    def port(self, ctx: Context) -> int:
        return ctx.settings.booking_com_port

    def demo_accounts(self) -> list[dict[str, Any]]:
        return [found.account for found in demo_booking_com_properties()]

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_BOOKING_COM_OTA_URL": self.url(ctx),
                "SIMPTU_BOOKING_COM_MESSAGING_URL": self.url(ctx)}

    def hint(self, ctx: Context) -> str:
        return (f"Booking.com stand-in: {self.url(ctx)}. A reservation for the demo hotel, "
                "which the channel senders fetch, book and acknowledge within seconds:\n"
                f"  curl -s -XPOST {self.url(ctx)}/_standin/reservations -H 'Content-Type: "
                "application/json' -d '{\"property_id\": \"7654321\", \"reservation_id\": "
                "\"4105000001\", \"given_name\": \"Ana\", \"surname\": \"Pop\", \"check_in\": "
                "\"2027-06-01\", \"check_out\": \"2027-06-03\", \"room_name\": \"Double room\"}'\n"
                f"  curl -s {self.url(ctx)}/_standin/acks")
