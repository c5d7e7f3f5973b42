"""One reader per mailbox among every replica of the channel senders: a replica reads a
mailbox while it holds the mailbox's lease in Redis, renewed at each refresh and taken over
by another replica once it lapses (a replica that stopped). Reading twice would be correct
(mails are deduplicated by Message-ID) but double work. Keys carry the tenant in braces
(`purge_tenant_keys` removes them) and a hash of the address, never the address itself."""

from __future__ import annotations

import hashlib
import uuid

import redis.asyncio as aioredis

PREFIX = "simptu:mail:reader"

# Taken when free or already ours (then renewed); 1 when ours.
TAKE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def lease_key(slug: str, address: str) -> str:
    digest = hashlib.sha256(address.lower().encode()).hexdigest()[:32]
    return f"{PREFIX}:{{{slug}}}:{digest}"


class MailboxLeases:
    """This process's leases; `ttl` seconds each (several refreshes long)."""

    def __init__(self, redis: aioredis.Redis, ttl: float) -> None:
        self.holder = uuid.uuid4().hex
        self.ttl_ms = int(ttl * 1000)
        self._take = redis.register_script(TAKE)
        self._release = redis.register_script(RELEASE)

    async def hold(self, slug: str, address: str) -> bool:
        """Take or renew the mailbox's lease; False while another replica holds it."""
        return bool(await self._take(keys=[lease_key(slug, address)],
                                     args=[self.holder, self.ttl_ms]))

    async def release(self, slug: str, address: str) -> None:
        await self._release(keys=[lease_key(slug, address)], args=[self.holder])
