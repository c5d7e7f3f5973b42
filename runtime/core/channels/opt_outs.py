"""Who may not be texted: a customer who sent STOP, or whom the provider reports unsubscribed,
until they send START (in a tenant unit of work)."""

from __future__ import annotations

import asyncpg

from simptu.runtime.core.channels.contacts import Contact, contact_index
from simptu.runtime.core.crypto import TenantCipher


async def opt_out(conn: asyncpg.Connection, cipher: TenantCipher, contact: Contact) -> None:
    await conn.execute("INSERT INTO channel_opt_outs (channel, contact_index) VALUES ($1, $2) "
                       "ON CONFLICT DO NOTHING", contact.channel,
                       await contact_index(cipher, contact))


async def opt_in(conn: asyncpg.Connection, cipher: TenantCipher, contact: Contact) -> None:
    await conn.execute("DELETE FROM channel_opt_outs WHERE channel = $1 AND contact_index = $2",
                       contact.channel, await contact_index(cipher, contact))


async def opted_out(conn: asyncpg.Connection, cipher: TenantCipher, contact: Contact) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM channel_opt_outs WHERE channel = $1 "
        "AND contact_index = $2)", contact.channel, await contact_index(cipher, contact)))
