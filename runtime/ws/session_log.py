"""The short log of what was pushed to each conversation, in Redis, that a reconnecting client
resumes from: a stream per session whose entry ids are the Kafka offsets of the events, so every
replica writes the same entry and the first write wins (a later one is refused as not newer).

A push holds the conversation's text, so each entry is sealed with the tenant's data key and
bound to its session and event (an entry moved or altered in Redis does not open: it is left
out of the replay). Keys carry the tenant in braces, so deleting a tenant's Redis keys
(`purge_tenant_keys`) removes its logs too.
"""

from __future__ import annotations

import json
from typing import Any, cast

import redis.asyncio as aioredis
import structlog

from simptu.runtime.core.crypto import KeyRing, TamperedField
from simptu.runtime.core.tenancy import TenantNames

PREFIX = "simptu:ws:log"

# XADD with the event's own id; an id not above the stream's last one is the same event
# written by another replica (or an older one): nothing to do. MAXLEN and TTL bound the log.
APPEND = """
local added = redis.pcall('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], ARGV[1], 'e', ARGV[2])
if type(added) == 'table' and added.err then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""


# Where a sealed entry belongs (its associated data).
SEALED_AS = ("ws_resume_log", "push")
log = structlog.get_logger(__name__)


def _key(tenant: str, session_id: str) -> str:
    return f"{PREFIX}:{{{tenant}}}:{session_id}"


class SessionLog:
    def __init__(self, redis: aioredis.Redis, keyring: KeyRing, *, max_events: int,
                 ttl: int) -> None:
        self.redis = redis
        self.keyring = keyring
        self.max_events = max_events
        self.ttl = ttl
        self._append = redis.register_script(APPEND)

    async def append(self, tenant: str, session_id: str, event_id: int,
                     push: dict[str, Any]) -> bool:
        """Record push `event_id` (`{"event", "payload"}`); False when it was already there."""
        sealed = await self.keyring.cipher(TenantNames(tenant)).seal(
            *SEALED_AS, f"{session_id}/{event_id}", json.dumps(push))
        added = await self._append(keys=[_key(tenant, session_id)], args=[
            f"{event_id}-1", sealed, self.max_events, self.ttl])
        return bool(added)

    async def since(self, tenant: str, session_id: str,
                    last_event_id: int) -> list[dict[str, Any]]:
        """The pushes after `last_event_id` (-1: every one kept), oldest first."""
        start = f"({last_event_id}-1" if last_event_id >= 0 else "-"  # no stream id is negative
        entries = cast("list[tuple[bytes, dict[bytes, bytes]]]", await self.redis.xrange(
            _key(tenant, session_id), start, "+"))
        cipher = self.keyring.cipher(TenantNames(tenant))
        pushes = []
        for entry_id, fields in entries:
            if not fields:
                continue
            event_id = int(entry_id.split(b"-")[0])
            try:
                opened = await cipher.open(*SEALED_AS, f"{session_id}/{event_id}", fields[b"e"])
            except TamperedField:
                log.warning("resume log entry does not open", session_id=session_id,
                            event_id=event_id)
                continue
            pushes.append(json.loads(opened))
        return pushes
