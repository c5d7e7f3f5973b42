"""A tenant's accounts on its channels: the id the provider knows it by and the credentials to
act there (access token, app secret, verify token…), sealed in the tenant's schema.

The operator copies them from the Secret the Tenant names; runtimes, which have no Kubernetes
API access, read them here. A process keeps what it read for a short while: a rotated Secret
takes effect within that time everywhere, at once where a signature check fails (it reads
again before refusing)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import asyncpg

from simptu.runtime.core.crypto import KeyRing, TenantCipher
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

ACCOUNTS = "channel_accounts"


@dataclass(frozen=True)
class ChannelAccount:
    channel: str
    account_id: str
    credentials: dict[str, str]

    def credential(self, key: str) -> str | None:
        return self.credentials.get(key) or None


async def save_account(conn: asyncpg.Connection, cipher: TenantCipher, account: ChannelAccount,
                       source_version: str) -> bool:
    """Store the account (in a tenant transaction); False when this version was stored already."""
    stored = await conn.fetchrow(
        "SELECT account_id, source_version FROM channel_accounts WHERE channel = $1",
        account.channel)
    if stored is not None and (stored["account_id"], stored["source_version"]) == (
            account.account_id, source_version):
        return False
    sealed = await cipher.seal(ACCOUNTS, "credentials", account.channel,
                               json.dumps(account.credentials))
    await conn.execute(
        "INSERT INTO channel_accounts (channel, account_id, credentials, source_version) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (channel) DO UPDATE SET "
        "account_id = EXCLUDED.account_id, credentials = EXCLUDED.credentials, "
        "source_version = EXCLUDED.source_version, updated_at = now()",
        account.channel, account.account_id, sealed, source_version)
    return True


async def keep_only(conn: asyncpg.Connection, channels: list[str]) -> None:
    """Forget the accounts of channels the Tenant no longer has."""
    await conn.execute("DELETE FROM channel_accounts WHERE channel <> ALL($1::text[])", channels)


async def load_account(conn: asyncpg.Connection, cipher: TenantCipher,
                       channel: str) -> ChannelAccount | None:
    row = await conn.fetchrow(
        "SELECT account_id, credentials FROM channel_accounts WHERE channel = $1", channel)
    if row is None:
        return None
    opened = await cipher.open_text(ACCOUNTS, "credentials", channel, row["credentials"])
    return ChannelAccount(channel, row["account_id"], json.loads(opened))


class ChannelAccounts:
    """A process's recently read channel accounts, for `ttl` seconds."""

    def __init__(self, pool: asyncpg.Pool, keyring: KeyRing, ttl: float = 30.0) -> None:
        self.pool = pool
        self.keyring = keyring
        self.ttl = ttl
        self._read: dict[tuple[str, str], tuple[float, ChannelAccount | None]] = {}

    async def get(self, tenant: TenantNames, channel: str,
                  fresh: bool = False) -> ChannelAccount | None:
        """The tenant's account on `channel` (None if it has none); `fresh` reads it again."""
        key = (tenant.slug, channel)
        kept = self._read.get(key)
        if kept is not None and not fresh and time.monotonic() - kept[0] < self.ttl:
            return kept[1]
        async with TenantUnitOfWork(self.pool, tenant) as conn:
            account = await load_account(conn, self.keyring.cipher(tenant, conn), channel)
        self._read[key] = (time.monotonic(), account)
        return account
