"""A tenant's messaging channels: the credentials of each (read from the Secret the Tenant
names, sealed into the tenant's schema, where runtimes without Kubernetes access read them) and
its identifiers in the routing registry as blind indexes, refused when another tenant has one
of them already."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from simptu.operator.kube_objects import KubeObjects
from simptu.runtime.core.channels import accounts
from simptu.runtime.core.channels.faults import clear_fault, faults_of
from simptu.runtime.core.channels.routing import (
    BOOKING_COM_PROPERTY,
    EMAIL_ADDRESS,
    META_VERIFY,
    TWILIO_NUMBER,
    TWILIO_SERVICE,
    RegistryIndex,
)
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

# Meta's channels: the spec field of the account id, and the Secret's default key of its main
# credential; the other keys read from the Secret (CRD: channels.*.secretRef).
META_CHANNELS = {"whatsapp": ("phoneNumberId", "accessToken"),
                 "messenger": ("pageId", "pageAccessToken"),
                 "instagram": ("accountId", "accessToken")}
META_KEYS = ("appSecret", "verifyToken")
DEFAULT_KEYS = {name: key for name, (_, key) in META_CHANNELS.items()} | {
    "twilio": "authToken", "email": "password", "bookingCom": "password"}
# E-mail's Secret is optional (the tenant's own mail server); these keys are copied from it.
EMAIL_KEYS = ("username", "imapUrl", "smtpUrl")
WORDS = {"whatsapp": "WhatsApp phone number id", "messenger": "Facebook Page id",
         "instagram": "Instagram account id", META_VERIFY: "Meta verify token",
         TWILIO_NUMBER: "Twilio phone number", TWILIO_SERVICE: "Twilio Messaging Service",
         EMAIL_ADDRESS: "e-mail address", BOOKING_COM_PROPERTY: "Booking.com property"}


@dataclass(frozen=True)
class Identifier:
    kind: str
    value: str
    index: bytes

    def described(self) -> str:
        shown = "…" + self.value[-4:] if self.kind == META_VERIFY else self.value
        return f"{WORDS.get(self.kind, self.kind)} {shown}"


@dataclass(frozen=True)
class Provisioned:
    """What was found: a problem for people, the identifiers to register, and a summary."""

    problem: str | None
    identifiers: list[Identifier]
    detail: str


def _settings(spec: dict[str, Any]) -> dict[str, str]:
    """The channel's settings the senders need besides credentials (WhatsApp's reminder
    template)."""
    template = spec.get("reminderTemplate") or {}
    if not template:
        return {}
    return {"reminderTemplate": str(template["name"]),
            "reminderLanguage": str(template.get("language") or "ro")}


def _decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {key: base64.b64decode(value).decode()
            for key, value in (secret.get("data") or {}).items()}


async def _read_secret(objects: KubeObjects, namespace: str,
                       name: str) -> tuple[dict[str, str], str] | None:
    found = await objects.get({"apiVersion": "v1", "kind": "Secret",
                               "metadata": {"name": name, "namespace": namespace}})
    if found is None:
        return None
    return _decoded(found), str(found["metadata"].get("resource_version")
                                or found["metadata"].get("resourceVersion") or "")


def _meta_account(name: str, spec: dict[str, Any], values: dict[str, str],
                  main_key: str) -> tuple[accounts.ChannelAccount, list[tuple[str, str]]]:
    credentials = {"accessToken": values[main_key],
                   **{key: values[key] for key in META_KEYS if values.get(key)},
                   **_settings(spec)}
    account = accounts.ChannelAccount(name, str(spec[META_CHANNELS[name][0]]), credentials)
    ids = [(name, account.account_id)]
    if "verifyToken" in credentials:
        ids.append((META_VERIFY, credentials["verifyToken"]))
    return account, ids


def _twilio_account(spec: dict[str, Any], values: dict[str, str],
                    main_key: str) -> tuple[accounts.ChannelAccount, list[tuple[str, str]]]:
    """SMS and voice share one Twilio account (stored as the `sms` channel's): its numbers
    and Messaging Service route webhooks to the tenant."""
    numbers = [str(number) for number in spec["phoneNumbers"]]
    credentials = {"authToken": values[main_key], "accountSid": values.get("accountSid", ""),
                   "phoneNumbers": ",".join(numbers),
                   **{key: str(spec[key]) for key in ("messagingServiceSid", "staffPhoneNumber")
                      if spec.get(key)}}
    ids = [(TWILIO_NUMBER, number) for number in numbers]
    if spec.get("messagingServiceSid"):
        ids.append((TWILIO_SERVICE, str(spec["messagingServiceSid"])))
    return accounts.ChannelAccount("sms", credentials["accountSid"], credentials), ids


def _email_account(spec: dict[str, Any], values: dict[str, str],
                   main_key: str) -> tuple[accounts.ChannelAccount, list[tuple[str, str]]]:
    """The tenant's addresses (read by the mail ingest, replies sent from them) and, from its
    optional Secret, its own mail server's login; without one, the platform's server."""
    addresses = [str(address).lower() for address in spec["addresses"]]
    credentials = {"addresses": ",".join(addresses),
                   **{key: values[key] for key in (main_key, *EMAIL_KEYS) if values.get(key)}}
    if main_key in credentials:
        credentials["password"] = credentials.pop(main_key)
    ids = [(EMAIL_ADDRESS, address) for address in addresses]
    return accounts.ChannelAccount("email", addresses[0], credentials), ids


def _booking_com_account(spec: dict[str, Any], values: dict[str, str], main_key: str,
                         ) -> tuple[accounts.ChannelAccount, list[tuple[str, str]]]:
    """The property's Connectivity API machine account (the poller's and the replies')."""
    property_id = str(spec["propertyId"])
    credentials = {"username": values.get("username", ""), "password": values[main_key]}
    return (accounts.ChannelAccount("booking_com", property_id, credentials),
            [(BOOKING_COM_PROPERTY, property_id)])


def _account(name: str, spec: dict[str, Any], values: dict[str, str], main_key: str,
             ) -> tuple[accounts.ChannelAccount, list[tuple[str, str]]]:
    if name == "email":
        return _email_account(spec, values, main_key)
    if name == "twilio":
        return _twilio_account(spec, values, main_key)
    if name == "bookingCom":
        return _booking_com_account(spec, values, main_key)
    return _meta_account(name, spec, values, main_key)


async def provision(pool: asyncpg.Pool, keyring: KeyRing, objects: KubeObjects,
                    index: RegistryIndex, tenant: TenantNames,
                    channels: dict[str, dict[str, Any] | None]) -> Provisioned:
    """Copy each messaging channel's credentials into the tenant's schema and check its
    identifiers against every other tenant's."""
    problems: list[str] = []
    identifiers: list[Identifier] = []
    configured = {name: spec for name, spec in channels.items()
                  if name in DEFAULT_KEYS and spec}
    stored: list[str] = []
    for name, spec in configured.items():
        reference = spec.get("secretRef") or {}
        read = (await _read_secret(objects, tenant.namespace, reference["name"]) if reference
                else ({}, ""))  # only e-mail's is optional
        if read is None:
            problems.append(f"{name}: Secret {reference['name']} not found in namespace "
                            f"{tenant.namespace}")
            continue
        values, version = read
        main_key = reference.get("key") or DEFAULT_KEYS[name]
        if reference and not values.get(main_key):
            problems.append(f"{name}: Secret {reference['name']} has no key {main_key}")
            continue
        account, ids = _account(name, spec, values, main_key)
        # A new Secret version or new settings in the spec are copied again.
        digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
        async with TenantUnitOfWork(pool, tenant) as conn:
            changed = await accounts.save_account(conn, keyring.cipher(tenant, conn), account,
                                                  f"{version}:{digest}")
        if changed:  # new credentials: an old refusal of the token no longer applies
            await clear_fault(pool, tenant.slug, account.channel)
        stored.append(account.channel)
        identifiers += [Identifier(kind, value, await index.of(kind, value))
                        for kind, value in ids]
    async with TenantUnitOfWork(pool, tenant) as conn:
        await accounts.keep_only(conn, stored)
    taken = await _taken(pool, tenant, identifiers)
    problems += [f"{identifier.described()} is already used by tenant {owner}"
                 for identifier, owner in taken.items()]
    problems += [fault.described() for fault in await faults_of(pool, tenant.slug)
                 if fault.channel in stored]
    detail = (", ".join(sorted(configured)) + " connected" if configured
              else "no messaging channels")
    # An id another tenant has stays theirs: registering it here would fail (or steal it).
    return Provisioned("; ".join(problems) or None,
                       [identifier for identifier in identifiers if identifier not in taken],
                       detail)


async def _taken(pool: asyncpg.Pool, tenant: TenantNames,
                 identifiers: list[Identifier]) -> dict[Identifier, str]:
    """The identifiers another tenant has registered already, with that tenant."""
    found = {}
    for identifier in identifiers:
        owner = await pool.fetchval(
            "SELECT slug FROM platform.tenant_channels WHERE channel = $1 AND blind_index = $2 "
            "AND slug <> $3", identifier.kind, identifier.index, tenant.slug)
        if owner is not None:
            found[identifier] = str(owner)
    return found


async def clashes(pool: asyncpg.Pool, tenant: TenantNames,
                  identifiers: list[Identifier]) -> list[str]:
    """Identifiers another tenant has registered already, in words: each would route its
    customers to one of the two tenants only."""
    return [f"{identifier.described()} is already used by tenant {owner}"
            for identifier, owner in (await _taken(pool, tenant, identifiers)).items()]


def registry_rows(identifiers: list[Identifier]) -> dict[str, list[bytes]]:
    """The registry's rows, once each (two channels may share one verify token)."""
    rows: dict[str, list[bytes]] = {}
    for identifier in identifiers:
        kept = rows.setdefault(identifier.kind, [])
        if identifier.index not in kept:
            kept.append(identifier.index)
    return rows
