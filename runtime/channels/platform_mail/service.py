"""The platform mailer as a task of the channel senders' process: it reads the tenants'
`events` topics in a consumer group of its own and sends what asks for a mail (nothing when
no relay is set)."""

from __future__ import annotations

import structlog

from simptu.runtime.channels.email.smtp import MailRelay
from simptu.runtime.channels.platform_mail.mailer import PlatformMailer
from simptu.runtime.channels.platform_mail.render import MailTemplates
from simptu.runtime.channels.settings import ChannelSettings
from simptu.runtime.core.events.tenant_topics import TenantTopics
from simptu.runtime.core.wiring import Core

log = structlog.get_logger(__name__)


async def send_platform_mails(settings: ChannelSettings, core: Core,
                              tenant: str | None) -> None:
    """Until cancelled."""
    relay_url = settings.mail_smtp_url.get_secret_value()
    if not relay_url:
        log.warning("no mail relay (SIMPTU_MAIL_SMTP_URL): the platform sends no mail")
        return
    mailer = PlatformMailer(core.pool, core.keyring, core.registry,
                            MailRelay(relay_url, settings.channels_send_timeout),
                            MailTemplates(), settings.platform_mail_from,
                            settings.platform_mail_attempts, settings.public_base_url)
    topics = TenantTopics(settings.kafka, settings.platform_mail_group_id,
                          "simptu-platform-mail", "events",
                          settings.channels_tenant_refresh_seconds, tenant=tenant)
    try:
        await topics.consume(core.pool, mailer.handle)
    finally:
        topics.stop()
