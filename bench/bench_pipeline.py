"""The whole conversation path against the running local stack; prints a markdown table.

    .venv/bin/python bench/bench_pipeline.py [--messages N] [--sessions S]

A page's view of one message: a Phoenix socket on the hub `make up` runs (port 4000) sends
`message` on `chat:<session>` of the demo clinic, and the clock stops at the first
`reply_delta` and at the whole `reply`. In between: the hub stores the message sealed and
writes its event to the outbox, the relay publishes it, the agent worker (local model) consumes
it, runs its graph and streams its reply through Kafka back to the hub. Messages go one at a
time per session (a customer waits for the answer), S sessions side by side; greetings,
questions on hours and prices in Romanian and English. Goal (issue 6): first delta p50 < 30 ms,
p99 < 150 ms. The sessions and the agent's checkpoints of them are removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import statistics
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
import uvloop
from websockets.asyncio.client import ClientConnection, connect

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.runtime.core.chat import events as chat_events
from simptu.runtime.core.chat import store as chat_store
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.guest_tokens import issue_guest_token
from simptu.runtime.core.redis_client import connect_redis
from simptu.runtime.core.registry import TenantRegistry
from simptu.runtime.core.tenancy import TenantNames

TENANT = "zambet-dental-cluj"
TEXTS = ["Bună ziua!", "Care este programul de lucru?", "Cât costă o consultație?",
         "Hello!", "What are your opening hours?", "How much is a cleaning?"]
WAIT = 30.0


@dataclass
class Timings:
    first_delta: list[float] = field(default_factory=list)
    whole_reply: list[float] = field(default_factory=list)


async def guest_sessions(db: asyncpg.Pool, stack: StackEnv, count: int) -> list[tuple[str, str]]:
    """(session id, guest token) of new web chats, as `POST /v1/chat/guest` makes them."""
    redis = connect_redis(stack["SIMPTU_REDIS_URL"])
    try:
        tenant = await TenantRegistry(db, redis).require_ready(TENANT)
    finally:
        await redis.aclose()
    made = []
    for _ in range(count):
        async with TenantUnitOfWork(db, tenant.names) as conn:
            session = await chat_store.create_session(conn, uuid.uuid4(), channel="web",
                                                      locale="ro", guest=True)
            await chat_events.session_changed(conn, tenant, session, "opened")
        token, _ = issue_guest_token(stack["SIMPTU_GUEST_TOKEN_SECRET"], TENANT,
                                     session["id"], dt.timedelta(minutes=30))
        made.append((str(session["id"]), token))
    return made


async def next_push(socket: ClientConnection, topic: str, events: set[str],
                    ref: str | None = None) -> tuple[str, dict[str, object]]:
    """The next frame on `topic` that is one of `events` (a reply to `ref` for phx_reply)."""
    async with asyncio.timeout(WAIT):
        while True:
            _, frame_ref, frame_topic, event, payload = json.loads(await socket.recv())
            if frame_topic == topic and event in events and (ref is None or frame_ref == ref):
                return event, payload


async def converse(url: str, session_id: str, token: str, texts: list[str],
                   timings: Timings) -> None:
    topic = f"chat:{session_id}"
    async with connect(f"{url}?vsn=2.0.0&token={token}") as socket:
        await socket.send(json.dumps(["1", "1", topic, "phx_join", {}]))
        _, joined = await next_push(socket, topic, {"phx_reply"}, "1")
        assert joined["status"] == "ok", joined
        for ref, text in enumerate(texts, start=2):
            started = time.perf_counter()
            await socket.send(json.dumps(["1", str(ref), topic, "message",
                                          {"text": text, "client_msg_id": uuid.uuid4().hex}]))
            await next_push(socket, topic, {"reply_delta"})
            timings.first_delta.append(time.perf_counter() - started)
            await next_push(socket, topic, {"reply"})
            timings.whole_reply.append(time.perf_counter() - started)


async def remove_sessions(db: asyncpg.Pool, tenant: str, ids: list[uuid.UUID]) -> None:
    """Chat sessions (their messages with them), their outbox rows and the agent's
    checkpoints of them (bench_meta.py removes its conversations with it too)."""
    async with TenantUnitOfWork(db, TenantNames(tenant)) as conn:
        await conn.execute("DELETE FROM outbox WHERE key = ANY($1::bytea[])",
                           [str(session_id).encode() for session_id in ids])
        await conn.execute("DELETE FROM chat_sessions WHERE id = ANY($1::uuid[])", ids)
        for table in ("checkpoint_writes", "checkpoint_blobs", "checkpoints"):
            await conn.execute(f"DELETE FROM {table} WHERE thread_id = ANY($1::text[])",  # noqa: S608
                               [str(session_id) for session_id in ids])


def quantile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000


async def main(messages: int, sessions: int) -> None:
    settings = DevstackSettings()
    stack = StackEnv.load(settings.env_file)
    url = f"ws://{settings.host}:{settings.ws_port}/socket/websocket"
    db = await asyncpg.create_pool(stack["SIMPTU_DATABASE_URL"], min_size=1, max_size=4)
    chats = await guest_sessions(db, stack, sessions + 1)
    try:
        texts = list(itertools.islice(itertools.cycle(TEXTS), messages))
        await converse(url, *chats[0], TEXTS, Timings())  # warm-up: models, keys, caches
        timings = Timings()
        print(f"{messages} messages over {sessions} sessions ...", flush=True)
        await asyncio.gather(*(converse(url, session_id, token, texts[n::sessions], timings)
                               for n, (session_id, token) in enumerate(chats[1:])))
    finally:
        await remove_sessions(db, TENANT, [uuid.UUID(session_id) for session_id, _ in chats])
        await db.close()
    print("| client `message` → | p50 ms | p99 ms | max ms |\n| --- | ---: | ---: | ---: |")
    for name, values in (("first `reply_delta` (goal p50 < 30, p99 < 150)", timings.first_delta),
                         ("whole `reply`", timings.whole_reply)):
        print(f"| {name} | {quantile(values, 50):.1f} | {quantile(values, 99):.1f} | "
              f"{max(values) * 1000:.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200, help="messages measured")
    parser.add_argument("--sessions", type=int, default=4, help="conversations side by side")
    args = parser.parse_args()
    uvloop.run(main(args.messages, args.sessions))
