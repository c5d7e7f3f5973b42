"""Each part of a reply, and each message, reaches a conversation once: an agent restarted
mid-reply publishes its `reply_delta`s again (same `message_id` and `seq`, new Kafka offsets), the
outbox relay may publish an event twice after a crash (at-least-once), and without this every
socket, and the resume log, would get them twice.

The first event (by Kafka offset) to carry a part claims it in Redis; an event with another
offset carrying the same part is a repeat, dropped before it is logged or pushed. Every replica
reads the same partitions in the same order, so every replica keeps the same first event, and
one replica seeing an event again (its own re-read) keeps it too. Claims live as long as the
resume log (`SIMPTU_WS_RESUME_TTL`); keys carry the tenant in braces, so a tenant's deletion
(`purge_tenant_keys`) removes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis

PREFIX = "simptu:ws:first"

# The part's first offset is kept; 1 when this offset is it (new, or the same event again).
CLAIM = """
local first = redis.call('GET', KEYS[1])
if not first then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
if first == ARGV[1] then return 1 end
return 0
"""


def part_of(event: str, payload: Mapping[str, Any]) -> str | None:
    """Which part of which message a push is (`<message_id>:<seq>` of a delta,
    `<message_id>:reply` of a whole reply, `<message_id>:message` of a customer's or staff
    member's message, which the outbox relay may publish twice after a crash); None for pushes
    that may repeat (typing, function calls)."""
    if event == "reply_delta":
        return f"{payload['message_id']}:{payload['seq']}"
    if event in ("reply", "message"):
        return f"{payload['message_id']}:{event}"
    return None


def claim_key(tenant: str, session_id: str, part: str) -> str:
    return f"{PREFIX}:{{{tenant}}}:{session_id}:{part}"


class FirstPushes:
    """`await first.is_first(tenant, session_id, event, payload, offset)` before logging and
    pushing an outbound event: False for a repeat of a part already pushed."""

    def __init__(self, redis: aioredis.Redis, *, ttl: int) -> None:
        self.ttl = ttl
        self._claim = redis.register_script(CLAIM)

    async def is_first(self, tenant: str, session_id: str, event: str,
                       payload: Mapping[str, Any], offset: int) -> bool:
        part = part_of(event, payload)
        if part is None:
            return True
        return bool(await self._claim(keys=[claim_key(tenant, session_id, part)],
                                      args=[str(offset), self.ttl]))
