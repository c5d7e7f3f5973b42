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
from simptu.runtime.core.channels.routing import META_VERIFY, RegistryIndex
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

# Per channel: the spec field of its account id, the Secret's default key of its main
# credential, and the other keys read from the Secret (CRD: channels.*.secretRef).
META_CHANNELS = {"whatsapp": ("phoneNumberId", "accessToken"),
                 "messenger": ("pageId", "pageAccessToken"),
                 "instagram": ("accountId", "accessToken")}
OTHER_KEYS = ("appSecret", "verifyToken")
WORDS = {"whatsapp": "WhatsApp phone number id", "messenger": "Facebook Page id",
         "instagram": "Instagram account id", META_VERIFY: "Meta verify token"}


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


async def provision(pool: asyncpg.Pool, keyring: KeyRing, objects: KubeObjects,
                    index: RegistryIndex, tenant: TenantNames,
                    channels: dict[str, dict[str, Any] | None]) -> Provisioned:
    """Copy each Meta channel's credentials into the tenant's schema and check its
    identifiers against every other tenant's."""
    problems: list[str] = []
    identifiers: list[Identifier] = []
    configured = {name: spec for name, spec in channels.items()
                  if name in META_CHANNELS and spec}
    for name, spec in configured.items():
        id_field, default_key = META_CHANNELS[name]
        reference = spec["secretRef"]
        read = await _read_secret(objects, tenant.namespace, reference["name"])
        if read is None:
            problems.append(f"{name}: Secret {reference['name']} not found in namespace "
                            f"{tenant.namespace}")
            continue
        values, version = read
        main_key = reference.get("key") or default_key
        if not values.get(main_key):
            problems.append(f"{name}: Secret {reference['name']} has no key {main_key}")
            continue
        credentials = {"accessToken": values[main_key],
                       **{key: values[key] for key in OTHER_KEYS if values.get(key)},
                       **_settings(spec)}
        account = accounts.ChannelAccount(name, str(spec[id_field]), credentials)
        # A new Secret version or new settings in the spec are copied again.
        digest = hashlib.sha256(json.dumps(_settings(spec)).encode()).hexdigest()[:12]
        source = f"{version}:{digest}"
        async with TenantUnitOfWork(pool, tenant) as conn:
            changed = await accounts.save_account(conn, keyring.cipher(tenant, conn), account,
                                                  source)
        if changed:  # new credentials: an old refusal of the token no longer applies
            await clear_fault(pool, tenant.slug, name)
        identifiers.append(Identifier(name, account.account_id,
                                      await index.of(name, account.account_id)))
        if "verifyToken" in credentials:
            token = credentials["verifyToken"]
            identifiers.append(Identifier(META_VERIFY, token, await index.of(META_VERIFY, token)))
    async with TenantUnitOfWork(pool, tenant) as conn:
        await accounts.keep_only(conn, list(configured))
    problems += await clashes(pool, tenant, identifiers)
    problems += [fault.described() for fault in await faults_of(pool, tenant.slug)
                 if fault.channel in configured]
    detail = (", ".join(sorted(configured)) + " connected" if configured
              else "no messaging channels")
    return Provisioned("; ".join(problems) or None, identifiers, detail)


async def clashes(pool: asyncpg.Pool, tenant: TenantNames,
                   identifiers: list[Identifier]) -> list[str]:
    """Identifiers another tenant has registered already: each would route its customers to
    one of the two tenants only."""
    found = []
    for identifier in identifiers:
        owner = await pool.fetchval(
            "SELECT slug FROM platform.tenant_channels WHERE channel = $1 AND blind_index = $2 "
            "AND slug <> $3", identifier.kind, identifier.index, tenant.slug)
        if owner is not None:
            found.append(f"{identifier.described()} is already used by tenant {owner}")
    return found


def registry_rows(identifiers: list[Identifier]) -> dict[str, list[bytes]]:
    """The registry's rows, once each (two channels may share one verify token)."""
    rows: dict[str, list[bytes]] = {}
    for identifier in identifiers:
        kept = rows.setdefault(identifier.kind, [])
        if identifier.index not in kept:
            kept.append(identifier.index)
    return rows
