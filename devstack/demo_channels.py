"""The demo tenants' Meta channels (WhatsApp, Messenger, Instagram): their ids, read from
examples/tenants/*.yaml, and their credentials, which are deterministic so that the Graph API
stand-in, the tenants' Secrets and `meta_webhook` agree without sharing a file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def demo_channels(examples: Path = EXAMPLES) -> list[DemoChannel]:
    """Every Meta channel the example tenants declare."""
    found = []
    for example in sorted(examples.glob("*.yaml")):
        tenant: dict[str, Any] = yaml.safe_load(example.read_text())
        channels = tenant["spec"].get("channels") or {}
        for channel, id_field in ID_FIELDS.items():
            if channel in channels:
                spec = channels[channel]
                found.append(DemoChannel(
                    tenant["metadata"]["name"], channel, str(spec[id_field]),
                    str(spec.get("displayPhoneNumber", "")).lstrip("+")))
    return found


def demo_channel(slug: str, channel: str, examples: Path = EXAMPLES) -> DemoChannel:
    """Demo tenant `slug`'s `channel`; the error names the tenants that have one."""
    every = [found for found in demo_channels(examples) if found.channel == channel]
    for found in every:
        if found.slug == slug:
            return found
    having = ", ".join(found.slug for found in every) or "none"
    raise LookupError(f"demo tenant {slug!r} has no {channel} channel in {examples} "
                      f"(tenants with one: {having})")
