"""`python -m simptu.runtime.channels sender [--tenant SLUG]`: run the channel senders until
SIGTERM/SIGINT (settings from `SIMPTU_*`, `SIMPTU_CHANNELS_*` and `SIMPTU_META_*`)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt

import httpx

from simptu.runtime.channels.booking_com.client import BookingComClient
from simptu.runtime.channels.booking_com.poller import BookingComPoller
from simptu.runtime.channels.booking_com.reservation_mails import ReservationMails, dns_with
from simptu.runtime.channels.email.dispatch import MailDispatch
from simptu.runtime.channels.email.ingest import MailIngest
from simptu.runtime.channels.email.leases import MailboxLeases
from simptu.runtime.channels.email.replies import EmailReplies
from simptu.runtime.channels.email.smtp import MailRelay
from simptu.runtime.channels.meta.graph import GraphClient
from simptu.runtime.channels.platform_mail.service import send_platform_mails
from simptu.runtime.channels.reminders import Reminders
from simptu.runtime.channels.sender import ChannelSender
from simptu.runtime.channels.settings import ChannelSettings
from simptu.runtime.channels.twilio.sms import TwilioSms
from simptu.runtime.core import background, entrypoint
from simptu.runtime.core.channels.accounts import ChannelAccounts
from simptu.runtime.core.channels.routing import RegistryIndex
from simptu.runtime.core.chat.actions import Conversations
from simptu.runtime.core.events.tenant_topics import TenantTopics
from simptu.runtime.core.health_server import serve_until_stopped
from simptu.runtime.core.logs import configure_json_logging
from simptu.runtime.core.wiring import Core, open_core

MAIL_SOURCE = "/simptu/channels/email"  # names the mail ingest in the events it posts
BOOKING_COM_SOURCE = "/simptu/channels/booking-com"  # names the Booking.com poller


def _parser() -> argparse.ArgumentParser:
    parser = entrypoint.parser(
        "python -m simptu.runtime.channels",
        "Channel senders: deliver the agent's replies and staff messages of "
        "WhatsApp, Messenger and Instagram conversations through Meta's Graph API "
        "(SIMPTU_META_GRAPH_URL), of SMS through Twilio, and of e-mail through the mail relay "
        "(SIMPTU_MAIL_SMTP_URL), reading the tenants' outbound topics; and read the tenants' "
        "mailboxes (SIMPTU_MAIL_IMAP_URL, IMAP IDLE) into their conversations; and send the "
        "platform's own mails (invitations, access codes, booking mails) asked for on the "
        "tenants' events topics; and poll Booking.com's reservations and guest messages "
        "(SIMPTU_BOOKING_COM_OTA_URL, _MESSAGING_URL) of tenants with channels.bookingCom.",
        ChannelSettings)
    parser.add_argument("command", choices=["sender"], help="what to run")
    parser.add_argument("--tenant", metavar="SLUG", default=None,
                        help="serve this tenant only (default: $SIMPTU_CHANNELS_TENANT, "
                        "or every Ready tenant when that is empty)")
    return parser


async def serve(settings: ChannelSettings, tenant: str | None) -> int:
    topics = TenantTopics(settings.kafka, settings.channels_group_id,
                          "simptu-channels", "outbound",
                          settings.channels_tenant_refresh_seconds, tenant=tenant)

    async def send() -> None:
        async with open_core(settings, client_id="simptu-channels", publishes=False) as core, \
                httpx.AsyncClient(timeout=settings.channels_send_timeout) as http:
            accounts = ChannelAccounts(core.pool, core.keyring, settings.channel_credentials_ttl)
            graph = GraphClient(http, settings.meta_graph_url, settings.meta_graph_version)
            sms = TwilioSms(settings.twilio_api_url,
                            f"{settings.public_base_url.rstrip('/')}/v1/webhooks/twilio/status",
                            settings.channels_send_timeout)
            relay_url = settings.mail_smtp_url.get_secret_value()
            relay = MailRelay(relay_url, settings.channels_send_timeout) if relay_url else None
            booking_com = BookingComClient(http, settings.booking_com_ota_url,
                                           settings.booking_com_messaging_url,
                                           settings.booking_com_auth_url)
            sender = ChannelSender(core.pool, core.keyring, accounts, graph, sms,
                                   settings.channels_throttle_attempts,
                                   settings.channels_throttle_backoff,
                                   EmailReplies(core.pool, core.keyring, core.registry, relay),
                                   booking_com)
            ingest = asyncio.create_task(mail_ingest(settings, core, accounts, tenant).run(
                settings.channels_tenant_refresh_seconds))
            platform_mails = asyncio.create_task(send_platform_mails(settings, core, tenant))
            reminders = None
            if settings.channels_reminder_interval:
                reminders = asyncio.create_task(Reminders(
                    core.pool, core.keyring, core.registry, accounts, graph,
                    dt.timedelta(hours=settings.channels_reminder_lead_hours), sms,
                ).run(settings.channels_reminder_interval))
            poller = None
            if settings.booking_com_poll_interval:
                poller = asyncio.create_task(BookingComPoller(
                    core.registry, accounts, Conversations(
                        core.pool, core.keyring, core.redis, BOOKING_COM_SOURCE,
                        settings.chat_max_text_chars), booking_com,
                ).run(settings.booking_com_poll_interval))
            try:
                await topics.consume(core.pool, sender.handle)
            finally:
                await background.stop(poller)
                await background.stop(ingest)
                await background.stop(platform_mails)
                await background.stop(reminders)
                await sms.aclose()

    await serve_until_stopped(lambda: topics.ready, settings.channels_host,
                              settings.channels_port, topics.stop, send)
    return 0


def mail_ingest(settings: ChannelSettings, core: Core, accounts: ChannelAccounts,
                tenant: str | None) -> MailIngest:
    """The readers of the tenants' mailboxes; each mail goes through `MailDispatch.dispatch`,
    where booking platforms' reservation mails are recognised first."""
    conversations = Conversations(core.pool, core.keyring, core.redis, MAIL_SOURCE,
                                  settings.chat_max_text_chars)
    reservations = ReservationMails(conversations, settings.reservation_mail_platforms,
                                    dns_with(settings.reservation_mail_dkim_records))
    return MailIngest(core.pool, accounts, core.registry,
                      MailDispatch(conversations, [reservations.recognise]),
                      RegistryIndex(core.keystore), settings.mail_imap_url,
                      settings.mail_password.get_secret_value(), tenant,
                      MailboxLeases(core.redis, 6 * settings.channels_tenant_refresh_seconds))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = ChannelSettings()  # type: ignore[call-arg]  # read from the environment
    configure_json_logging(settings.channels_log_level)
    return asyncio.run(serve(settings, args.tenant or settings.channels_tenant or None))
