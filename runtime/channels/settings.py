"""Settings of the channel senders (`SIMPTU_CHANNELS_*`, `SIMPTU_META_*` and the shared ones)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from simptu.runtime.core.settings import CoreSettings


class ChannelSettings(CoreSettings):
    # Where the senders serve /healthz, /readyz and /metrics.
    channels_host: str = "127.0.0.1"
    channels_port: int = 58094
    # The consumer group of every sender replica: each reply is sent by one of them.
    channels_group_id: str = "simptu-channel-senders"
    # A tenant's own senders (its pods) serve only it; empty: every Ready tenant (local).
    channels_tenant: str = ""
    # How often the set of Ready tenants is read again (a new tenant's topics are joined).
    channels_tenant_refresh_seconds: float = Field(default=5.0, gt=0)
    # Each call to a provider gives up after this many seconds.
    channels_send_timeout: float = Field(default=10.0, gt=0, le=120)
    # Sends the provider throttles are tried this many times (with backoff) before the event
    # is put back, to be tried again later.
    channels_throttle_attempts: int = Field(default=4, ge=1, le=20)
    # Seconds before the first retry of a throttled send; doubled for each next one.
    channels_throttle_backoff: float = Field(default=1.0, gt=0, le=60)
    # How often due booking reminders are looked for (seconds; 0: never), and how long before
    # a booking its reminder is due (hours).
    channels_reminder_interval: float = Field(default=60.0, ge=0)
    channels_reminder_lead_hours: float = Field(default=24.0, gt=0, le=168)
    # Level of the senders' JSON logs.
    channels_log_level: str = "INFO"
    # Meta's Graph API: its base URL (a stand-in's locally) and the pinned version.
    meta_graph_url: str = "https://graph.facebook.com"
    meta_graph_version: str = "v24.0"
    # Twilio's REST API (a stand-in's locally).
    twilio_api_url: str = "https://api.twilio.com"
    # Booking.com's Connectivity APIs (a stand-in's locally): the OTA reservation feeds.
    booking_com_ota_url: str = "https://secure-supply-xml.booking.com"
    # Booking.com's messaging API (guest messages and replies).
    booking_com_messaging_url: str = "https://supply-xml.booking.com"
    # How often each tenant's Booking.com reservations and messages are read (seconds; 0: never).
    booking_com_poll_interval: float = Field(default=20.0, ge=0)
    # Where the machine account is exchanged for bearer tokens (Booking.com's token-based
    # authentication); empty: HTTP Basic on every call.
    booking_com_auth_url: str = ""
    # Reservation e-mails: the domains of booking platforms besides booking.com whose
    # DKIM-signed confirmation mails become bookings (JSON list).
    reservation_mail_platforms: list[str] = Field(default_factory=list)
    # DKIM public keys known without DNS (JSON object, `<selector>._domainkey.<domain>` to its
    # TXT record: a local stack's demo keys).
    reservation_mail_dkim_records: dict[str, str] = Field(default_factory=dict)
    # E-mail. The platform's mail relay, `smtp://[user:password@]host:port` (STARTTLS when the
    # server offers it) or `smtps://…` (TLS from the start); empty: no mail is sent.
    mail_smtp_url: SecretStr = SecretStr("")
    # The platform's mail server that holds the tenants' mailboxes, `imap://host:port` or
    # `imaps://host:port`; empty: only tenants with their own mail server are read.
    mail_imap_url: str = ""
    # The password of the tenants' mailboxes on the platform's mail server (a tenant's own
    # mail Secret overrides it).
    mail_password: SecretStr = SecretStr("")
    # The address the platform's own mails (invitations, access codes, booking mails) come
    # from, named by each tenant's display name.
    platform_mail_from: str = "no-reply@simptu.localhost"
    # The consumer group of the platform mailers (each mail is sent by one of them).
    platform_mail_group_id: str = "simptu-platform-mail"
    # Hand-overs of one platform mail the relay may refuse for now (4xx, no connection; tried
    # again after 0.2 s doubling up to 30 s) before the mail is recorded `failed`.
    platform_mail_attempts: int = Field(default=12, ge=1, le=100)
