"""Rules the CRD schema cannot express, checked by the validating admission webhook.

A channel identifier (a WhatsApp number, a Messenger page, a Twilio number, an e-mail address…)
routes inbound messages to exactly one tenant, so no two Tenants may claim the same one. That is
a rule across objects: CEL in the schema sees only the object being written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Where each channel keeps its identifiers, and how a person names them in a message.
SINGLE = {"whatsapp": ("phoneNumberId", "WhatsApp phone number id"),
          "messenger": ("pageId", "Messenger page id"),
          "instagram": ("accountId", "Instagram account id"),
          "bookingCom": ("propertyId", "Booking.com property id")}
MANY = {"twilio": ("phoneNumbers", "Twilio phone number"),
        "email": ("addresses", "e-mail address")}


def channel_claims(spec: Mapping[str, Any]) -> dict[str, str]:
    """Every identifier the Tenant's channels claim, as `channel:value` → words for a human."""
    channels = spec.get("channels") or {}
    claims: dict[str, str] = {}
    for channel, (field, words) in SINGLE.items():
        value = (channels.get(channel) or {}).get(field)
        if value:
            claims[f"{channel}:{value}"] = f"{words} {value}"
    for channel, (field, words) in MANY.items():
        for value in (channels.get(channel) or {}).get(field) or ():
            # E-mail addresses are compared without case, as mail servers route them.
            key = value.lower() if channel == "email" else value
            claims[f"{channel}:{key}"] = f"{words} {value}"
    return claims


def clashes(name: str, spec: Mapping[str, Any],
            owners: Mapping[str, Iterable[str]]) -> list[str]:
    """What `name` claims that another Tenant already has, in words; `owners` maps each claim
    to the Tenants holding it."""
    found = []
    for claim, words in sorted(channel_claims(spec).items()):
        others = sorted(set(owners.get(claim, ())) - {name})
        if others:
            found.append(f"{words} is already used by Tenant {', '.join(others)}")
    return found
