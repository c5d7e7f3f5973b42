"""The short log of what was pushed to each conversation, in Redis, that a reconnecting client
resumes from: a stream per session whose entry ids are the Kafka offsets of the events, so every
replica writes the same entry and the first write wins (a later one is refused as not newer)."""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis

PREFIX = "simptu:ws:log"

# XADD with the event's own id; an id not above the stream's last one is the same event
# written by another replica (or an older one): nothing to do. MAXLEN and TTL bound the log.
APPEND = """
local added = redis.pcall('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], ARGV[1], 'e', ARGV[2])
if type(added) == 'table' and added.err then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""


def _key(tenant: str, session_id: str) -> str:
    return f"{PREFIX}:{tenant}:{session_id}"


class SessionLog:
    def __init__(self, redis: aioredis.Redis, *, max_events: int, ttl: int) -> None:
        self.redis = redis
        self.max_events = max_events
        self.ttl = ttl
        self._append = redis.register_script(APPEND)

    async def append(self, tenant: str, session_id: str, event_id: int,
                     push: dict[str, Any]) -> bool:
        """Record push `event_id` (`{"event", "payload"}`); False when it was already there."""
        added = await self._append(keys=[_key(tenant, session_id)], args=[
            f"{event_id}-1", json.dumps(push), self.max_events, self.ttl])
        return bool(added)

    async def since(self, tenant: str, session_id: str,
                    last_event_id: int) -> list[dict[str, Any]]:
        """The pushes after `last_event_id`, oldest first."""
        entries = await self.redis.xrange(_key(tenant, session_id), f"({last_event_id}-1", "+")
        return [json.loads(fields[b"e"]) for _, fields in entries or () if fields]
