"""The demo tenants' channels (Meta's WhatsApp, Messenger, Instagram; Twilio): their ids and
numbers, read from examples/tenants/*.yaml, and their credentials, which are deterministic so
that the stand-ins, the tenants' Secrets and `meta_webhook` / `twilio_webhook` agree without
sharing a file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml

from simptu.devstack.settings import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples" / "tenants"
# The spec field that holds each Meta channel's id.
ID_FIELDS = {"whatsapp": "phoneNumberId", "messenger": "pageId", "instagram": "accountId"}
TOKEN_KEYS = {"whatsapp": "accessToken", "messenger": "pageAccessToken",
              "instagram": "accessToken"}


# The platform's own Meta app of the local stack (SIMPTU_META_APP_SECRET / _VERIFY_TOKEN of its
# API), for tenants whose channel Secrets hold only their access token.
PLATFORM_APP_SECRET = "demo-platform-meta-app-secret"  # noqa: S105 - a local stand-in's
PLATFORM_VERIFY_TOKEN = "demo-platform-meta-verify"  # noqa: S105 - a local stand-in's


def demo_channel_secret(slug: str, channel: str) -> dict[str, str]:
    """The keys of demo tenant `slug`'s Secret for `channel` (whatsapp, messenger, instagram)."""
    if channel not in TOKEN_KEYS:
        raise ValueError(f"{channel!r} is not a Meta channel ({', '.join(TOKEN_KEYS)})")
    return {TOKEN_KEYS[channel]: f"demo-{slug}-{channel}-token",
            "appSecret": f"demo-{slug}-{channel}-app-secret",
            "verifyToken": f"demo-{slug}-{channel}-verify"}


@dataclass(frozen=True)
class DemoChannel:
    slug: str
    channel: str  # whatsapp, messenger or instagram
    object_id: str  # phone number id, Page id or Instagram account id
    display_phone_number: str = ""  # WhatsApp: digits, as Meta's webhooks carry it

    @property
    def secret(self) -> dict[str, str]:
        return demo_channel_secret(self.slug, self.channel)

    @property
    def access_token(self) -> str:
        return self.secret[TOKEN_KEYS[self.channel]]

    @property
    def app_secret(self) -> str:
        return self.secret["appSecret"]


def example_tenants(examples: Path = EXAMPLES) -> list[dict[str, Any]]:
    """The example Tenant resources, by file name."""
    return [yaml.safe_load(example.read_text()) for example in sorted(examples.glob("*.yaml"))]


def demo_channels(examples: Path = EXAMPLES) -> list[DemoChannel]:
    """Every Meta channel the example tenants declare."""
    found = []
    for tenant in example_tenants(examples):
        channels = tenant["spec"].get("channels") or {}
        for channel, id_field in ID_FIELDS.items():
            if channel in channels:
                spec = channels[channel]
                found.append(DemoChannel(
                    tenant["metadata"]["name"], channel, str(spec[id_field]),
                    str(spec.get("displayPhoneNumber", "")).lstrip("+")))
    return found


class OfTenant(Protocol):
    @property
    def slug(self) -> str: ...


Found = TypeVar("Found", bound=OfTenant)


def tenants_own(slug: str, channel: str, every: list[Found], examples: Path) -> Found:
    """The one of `every` that is demo tenant `slug`'s; the error names the tenants that have
    a `channel`."""
    for found in every:
        if found.slug == slug:
            return found
    having = ", ".join(found.slug for found in every) or "none"
    raise LookupError(f"demo tenant {slug!r} has no {channel} channel in {examples} "
                      f"(tenants with one: {having})")


def demo_channel(slug: str, channel: str, examples: Path = EXAMPLES) -> DemoChannel:
    """Demo tenant `slug`'s `channel`; the error names the tenants that have one."""
    return tenants_own(slug, channel, [found for found in demo_channels(examples)
                                       if found.channel == channel], examples)


# Twilio (SMS and voice) ---------------------------------------------------------------------


def demo_twilio_secret(slug: str) -> dict[str, str]:
    """The keys of demo tenant `slug`'s Twilio Secret: an account sid derived from the slug
    (AC + 32 hex) and its auth token, which also signs Twilio's webhooks."""
    digest = hashlib.sha256(f"simptu-demo-twilio:{slug}".encode()).hexdigest()
    return {"accountSid": "AC" + digest[:32], "authToken": f"demo-{slug}-twilio-token"}


@dataclass(frozen=True)
class DemoTwilioAccount:
    slug: str
    phone_numbers: tuple[str, ...]  # E.164, as spec.channels.twilio.phoneNumbers
    messaging_service_sid: str | None = None

    @property
    def account_sid(self) -> str:
        return demo_twilio_secret(self.slug)["accountSid"]

    @property
    def auth_token(self) -> str:
        return demo_twilio_secret(self.slug)["authToken"]


def demo_twilio_accounts(examples: Path = EXAMPLES) -> list[DemoTwilioAccount]:
    """Every Twilio account the example tenants declare."""
    found = []
    for tenant in example_tenants(examples):
        twilio = (tenant["spec"].get("channels") or {}).get("twilio")
        if twilio:
            found.append(DemoTwilioAccount(
                tenant["metadata"]["name"], tuple(str(n) for n in twilio["phoneNumbers"]),
                twilio.get("messagingServiceSid")))
    return found


def demo_twilio_account(slug: str, examples: Path = EXAMPLES) -> DemoTwilioAccount:
    """Demo tenant `slug`'s Twilio account; the error names the tenants that have one."""
    return tenants_own(slug, "twilio", demo_twilio_accounts(examples), examples)


# E-mail ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoMailbox:
    slug: str
    addresses: tuple[str, ...]  # as spec.channels.email.addresses
    own_secret: bool  # the tenant names a mail Secret (its "own" server: the stack's here)


def demo_mail_secret(key: str, mail_password: str) -> dict[str, str]:
    """The keys of a demo tenant's own mail Secret: every mailbox of the stack's mail server
    opens with its one password, so the tenant's "own server" is the stack's."""
    return {key: mail_password}


def demo_mailboxes(examples: Path = EXAMPLES) -> list[DemoMailbox]:
    """Every example tenant's e-mail addresses."""
    found = []
    for tenant in example_tenants(examples):
        mail = (tenant["spec"].get("channels") or {}).get("email")
        if mail:
            found.append(DemoMailbox(tenant["metadata"]["name"],
                                     tuple(str(a).lower() for a in mail["addresses"]),
                                     bool(mail.get("secretRef"))))
    return found


def demo_mailbox(slug: str, examples: Path = EXAMPLES) -> DemoMailbox:
    """Demo tenant `slug`'s e-mail addresses; the error names the tenants that have some."""
    return tenants_own(slug, "email", demo_mailboxes(examples), examples)


# Booking.com ----------------------------------------------------------------------------------


def demo_booking_com_secret(slug: str) -> dict[str, str]:
    """The keys of demo tenant `slug`'s Booking.com Secret: its Connectivity API machine
    account, which the stand-in knows too."""
    return {"username": f"demo-{slug}-booking-com", "password": f"demo-{slug}-booking-com-pass"}


@dataclass(frozen=True)
class DemoBookingComProperty:
    slug: str
    property_id: str  # spec.channels.bookingCom.propertyId

    @property
    def account(self) -> dict[str, Any]:
        """The machine account as the stand-in registers it, with the property."""
        return {**demo_booking_com_secret(self.slug), "property_ids": [self.property_id]}


def demo_booking_com_properties(examples: Path = EXAMPLES) -> list[DemoBookingComProperty]:
    """Every Booking.com property the example tenants declare."""
    return [DemoBookingComProperty(tenant["metadata"]["name"],
                                   str(tenant["spec"]["channels"]["bookingCom"]["propertyId"]))
            for tenant in example_tenants(examples)
            if (tenant["spec"].get("channels") or {}).get("bookingCom")]


def demo_booking_com_property(slug: str, examples: Path = EXAMPLES) -> DemoBookingComProperty:
    """Demo tenant `slug`'s Booking.com property; the error names the tenants that have one."""
    return tenants_own(slug, "bookingCom", demo_booking_com_properties(examples), examples)
