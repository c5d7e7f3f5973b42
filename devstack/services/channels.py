"""The channel senders (`python -m simptu.runtime.channels sender`) as a local process: they
deliver replies in WhatsApp, Messenger and Instagram conversations to the Graph API stand-in
(`SIMPTU_META_GRAPH_URL` of the stack's env file), for every Ready tenant, tests' included:
the tests post webhooks and read what the stand-in received."""

from __future__ import annotations

from simptu.devstack.services.base import Context, PlatformProcess
from simptu.devstack.services.kafka import Kafka


class ChannelSenders(PlatformProcess):
    name = "channels"
    needs = ("postgres", "kafka", "openbao", "operator", "relay", "meta-graph", "twilio-api",
             "mail-imap", "mail-smtp", "booking-com")
    module = "simptu.runtime.channels"
    args = ("sender",)

    def url(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{ctx.settings.channels_port}"

    def own_env(self, ctx: Context) -> dict[str, str]:
        return {**Kafka().login_env(ctx, "simptu-channels"),
                "SIMPTU_CHANNELS_PORT": str(ctx.settings.channels_port),
                "SIMPTU_CHANNELS_HOST": ctx.settings.host,
                # Reminders due are found within seconds, for the demo and the tests.
                "SIMPTU_CHANNELS_REMINDER_INTERVAL": "2",
                # Booking.com's reservations and guest messages, likewise.
                "SIMPTU_BOOKING_COM_POLL_INTERVAL": "2",
                # Twilio's REST API: the stand-in's, never Twilio's own.
                "SIMPTU_TWILIO_API_URL": f"http://{ctx.settings.host}:{ctx.settings.twilio_api_port}",
                # Where Twilio's status callbacks of sent SMS go: the API.
                "SIMPTU_PUBLIC_BASE_URL": f"http://{ctx.settings.host}:{ctx.settings.api_port}"}

    def endpoint(self, ctx: Context) -> str:
        return self.url(ctx)
