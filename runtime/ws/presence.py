"""Phoenix Presence across hub replicas: who is joined to a topic, kept in Redis (one hash per
topic, one field per join) and told to every replica over Redis pub/sub as diffs.

Payloads are exactly what phoenix.js `Presence.syncState`/`syncDiff` read: a state is
`{key: {"metas": [{"phx_ref": ..., ...}]}}` and a diff `{"joins": state, "leaves": state}`.
A replica that dies leaves its entries behind; they stop counting when its liveness key expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "simptu:ws:presence"
DIFFS_CHANNEL = "simptu:ws:presence-diffs"
REPLICA_PREFIX = "simptu:ws:replica"
# A topic nobody joined for a day is forgotten, with the entries of replicas that died.
HASH_TTL = 86_400
RESUBSCRIBE_DELAY = 1.0
State = dict[str, dict[str, list[dict[str, Any]]]]


@dataclass(frozen=True)
class Entry:
    """One join of one presence key (a user may be joined from several sockets)."""

    key: str
    meta: dict[str, Any]
    replica: str

    @property
    def phx_ref(self) -> str:
        return str(self.meta["phx_ref"])


def state_of(entries: list[Entry]) -> State:
    """The `presence_state` payload of these joins, grouped by key."""
    state: State = {}
    for entry in entries:
        state.setdefault(entry.key, {"metas": []})["metas"].append(entry.meta)
    return state


def diff(joins: list[Entry], leaves: list[Entry]) -> dict[str, State]:
    """The `presence_diff` payload of joins and leaves."""
    return {"joins": state_of(joins), "leaves": state_of(leaves)}


def new_ref() -> str:
    return secrets.token_urlsafe(9)


DiffListener = Callable[[str, str, dict[str, State]], Awaitable[None]]


class PresenceTracker:
    """Tracks this replica's joins in Redis and hands every replica's diffs to `on_diff`
    (tenant, topic, diff)."""

    def __init__(self, redis: aioredis.Redis, replica: str, on_diff: DiffListener,
                 *, liveness_ttl: int = 30) -> None:
        self.redis = redis
        self.replica = replica
        self.on_diff = on_diff
        self.liveness_ttl = liveness_ttl
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self._beat()
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(DIFFS_CHANNEL)
        self._tasks = [asyncio.create_task(self._listen_forever(pubsub)),
                       asyncio.create_task(self._keep_alive())]

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.redis.delete(f"{REPLICA_PREFIX}:{self.replica}")

    async def track(self, tenant: str, topic: str, key: str, meta: dict[str, Any]) -> Entry:
        entry = Entry(key, {**meta, "phx_ref": new_ref(), "online_at": int(time.time())},
                      self.replica)
        key = _hash(tenant, topic)
        await self.redis.hset(key, entry.phx_ref,
                              json.dumps([entry.key, entry.meta, entry.replica]))
        await self.redis.expire(key, HASH_TTL)
        await self._announce(tenant, topic, diff([entry], []))
        return entry

    async def untrack(self, tenant: str, topic: str, entry: Entry) -> None:
        await self.redis.hdel(_hash(tenant, topic), entry.phx_ref)
        await self._announce(tenant, topic, diff([], [entry]))

    async def list(self, tenant: str, topic: str) -> State:
        """The topic's presence state, without the joins of replicas that are gone."""
        raw = await self.redis.hgetall(_hash(tenant, topic))
        entries = [Entry(*json.loads(value)) for value in raw.values()]
        replicas = sorted({entry.replica for entry in entries})
        alive = set()
        if replicas:
            flags = await self.redis.mget([f"{REPLICA_PREFIX}:{r}" for r in replicas])
            alive = {r for r, flag in zip(replicas, flags, strict=True) if flag is not None}
        return state_of([entry for entry in entries if entry.replica in alive])

    async def _announce(self, tenant: str, topic: str, payload: dict[str, State]) -> None:
        await self.redis.publish(DIFFS_CHANNEL, json.dumps([tenant, topic, payload]))

    async def _listen_forever(self, pubsub: aioredis.client.PubSub) -> None:
        """Listen again after Redis restarts (diffs sent meanwhile are lost; a joining client
        still gets the whole state)."""
        while True:
            try:
                # Returns at once when the subscribe failed (Redis was still down): without
                # the pause below that looped without yielding and froze the whole hub.
                await self._listen(pubsub)
                log.warning("presence diffs not subscribed, subscribing again")
            except (RedisError, OSError) as error:
                log.warning("presence diffs interrupted, subscribing again: %r", error)
            await asyncio.sleep(RESUBSCRIBE_DELAY)
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            with contextlib.suppress(RedisError, OSError):
                await pubsub.subscribe(DIFFS_CHANNEL)

    async def _listen(self, pubsub: aioredis.client.PubSub) -> None:
        async with pubsub:
            async for message in pubsub.listen():
                try:
                    tenant, topic, payload = json.loads(message["data"])
                    await self.on_diff(tenant, topic, payload)
                except Exception:  # one bad diff must not stop presence for every topic
                    log.exception("could not deliver a presence diff")

    async def _beat(self) -> None:
        await self.redis.set(f"{REPLICA_PREFIX}:{self.replica}", "1", ex=self.liveness_ttl)

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self.liveness_ttl / 3)
            try:
                await self._beat()
            except Exception:
                log.exception("could not renew this replica's presence liveness")


def _hash(tenant: str, topic: str) -> str:
    return f"{PREFIX}:{tenant}:{topic}"
