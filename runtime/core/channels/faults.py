"""Channel faults only people can fix (a provider refused the tenant's access token): written
by the senders, reported by the operator in the Tenant's conditions, cleared when the
tenant's credentials are copied again from a changed Secret."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class ChannelFault:
    slug: str
    channel: str
    code: str
    detail: str
    at: dt.datetime

    def described(self) -> str:
        if self.channel == "email":  # a mailbox's login (tenant's own server, or the platform's)
            return (f"email: the mail server refused the login at {self.at:%Y-%m-%d %H:%M:%S} "
                    f"UTC ({self.detail}); put the right password in the channel's Secret (or "
                    "SIMPTU_MAIL_PASSWORD for the platform's server)")
        return (f"{self.channel}: the provider refused the access token at "
                f"{self.at:%Y-%m-%d %H:%M:%S} UTC ({self.code}: {self.detail}); put a valid "
                "one in the channel's Secret")


async def record_fault(db: asyncpg.Pool | asyncpg.Connection, slug: str, channel: str,
                       code: str, detail: str) -> None:
    await db.execute(
        "INSERT INTO platform.channel_faults (slug, channel, code, detail) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (slug, channel) DO UPDATE SET code = EXCLUDED.code, "
        "detail = EXCLUDED.detail, at = now()", slug, channel, code, detail[:500])


async def faults_of(db: asyncpg.Pool | asyncpg.Connection, slug: str) -> list[ChannelFault]:
    rows = await db.fetch("SELECT slug, channel, code, detail, at FROM platform.channel_faults "
                          "WHERE slug = $1 ORDER BY channel", slug)
    return [ChannelFault(**dict(row)) for row in rows]


async def clear_fault(db: asyncpg.Pool | asyncpg.Connection, slug: str, channel: str) -> None:
    await db.execute("DELETE FROM platform.channel_faults WHERE slug = $1 AND channel = $2",
                     slug, channel)


async def faulty_since(db: asyncpg.Pool | asyncpg.Connection,
                       since: dt.datetime) -> tuple[list[str], dt.datetime]:
    """Tenants with a fault recorded after `since`, and the time to ask from next."""
    rows = await db.fetch("SELECT slug, at FROM platform.channel_faults WHERE at > $1", since)
    latest = max((row["at"] for row in rows), default=since)
    return sorted({row["slug"] for row in rows}), latest
