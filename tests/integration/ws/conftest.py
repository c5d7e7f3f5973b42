"""Fixtures of the hub tests: two hub replicas on the real stack (each its own platform,
sharing only Redis, Kafka and Postgres, as two processes would), the demo tenants the stack
provisions, their real tokens, guest chat sessions, the stock phoenix client under Node, and
"the agent": contract events published to the tenant's real outbound topic, sealed."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, TopicPartition
from websockets.asyncio.server import Server

from simptu.devstack.demo_tokens import demo_token
from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.chat import events as chat_events
from simptu.runtime.core.chat import store as chat_store
from simptu.runtime.core.crypto import KeyRing, OpenBaoTransit
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events import CloudEvent, EventProducer
from simptu.runtime.core.guest_tokens import issue_guest_token
from simptu.runtime.core.registry import TenantRecord, TenantRegistry
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.ws.hub import Hub
from simptu.runtime.ws.platform import open_platform
from simptu.runtime.ws.server import start
from simptu.runtime.ws.settings import WsSettings

from .phoenix_driver import PhoenixDriver, node_client_dir

CLINIC = "zambet-dental-cluj"
GYM = "pulse-fitness-timisoara"


@pytest.fixture(scope="session")
def ws_settings(stack: StackEnv, core_settings: CoreSettings) -> WsSettings:
    return WsSettings.model_validate(core_settings.model_dump() | {
        "guest_token_secret": stack["SIMPTU_GUEST_TOKEN_SECRET"],
        "ws_max_frame_bytes": 8192, "ws_max_malformed_frames": 3})


@dataclass(frozen=True)
class Replica:
    hub: Hub
    server: Server

    @property
    def url(self) -> str:
        """What a page gives `new Socket(url)`: phoenix.js appends `/websocket`."""
        host, port = next(iter(self.server.sockets)).getsockname()[:2]
        return f"ws://{host}:{port}/socket"


async def closed_within(server: Server, seconds: float) -> None:
    """Close a replica's server; its sockets get `seconds` to finish, then the test run goes
    on (a socket a test left half-open must not hang the whole session's teardown)."""
    server.close()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await server.wait_closed()


@pytest.fixture(scope="session")
async def replicas(ws_settings: WsSettings) -> AsyncIterator[tuple[Replica, Replica]]:
    """Two hub replicas on ports of their own."""
    async with AsyncExitStack() as stack:
        made = []
        for _ in range(2):
            platform = await stack.enter_async_context(open_platform(ws_settings))
            hub = await stack.enter_async_context(Hub(platform))
            server = await start(hub, "127.0.0.1", 0)
            stack.push_async_callback(closed_within, server, 10.0)
            made.append(Replica(hub, server))
        yield made[0], made[1]


@pytest.fixture(scope="session")
async def tenants(db: asyncpg.Pool, redis_client: aioredis.Redis) -> dict[str, TenantRecord]:
    """The stack's demo clinic and gym, Ready, with realms and topics (`make up` made them)."""
    registry = TenantRegistry(db, redis_client)
    return {slug: await registry.require_ready(slug) for slug in (CLINIC, GYM)}


TokenOf = Callable[[str, str], Awaitable[str]]


@pytest.fixture(scope="session")
async def token_of(tenants: dict[str, TenantRecord]) -> AsyncIterator[TokenOf]:
    """A real access token of a demo user (`staff`, `customer`, `admin`) of a demo tenant."""
    async with httpx.AsyncClient(timeout=30) as http:
        async def token(slug: str, user: str) -> str:
            issuer = tenants[slug].auth_issuer
            assert issuer is not None
            return str((await demo_token(http, issuer, user))["access_token"])
        yield token


@dataclass(frozen=True)
class GuestChat:
    tenant: TenantRecord
    session_id: uuid.UUID
    token: str

    @property
    def topic(self) -> str:
        return f"chat:{self.session_id}"


GuestChats = Callable[..., Awaitable[GuestChat]]


@pytest.fixture
async def guest_chat(db: asyncpg.Pool, stack: StackEnv,
                     tenants: dict[str, TenantRecord]) -> AsyncIterator[GuestChats]:
    """New web chats as `POST /v1/chat/guest` makes them (session, `session.opened` through
    the outbox, a guest token); removed afterwards."""
    made: list[GuestChat] = []

    async def open_chat(slug: str = CLINIC) -> GuestChat:
        tenant = tenants[slug]
        async with TenantUnitOfWork(db, tenant.names) as conn:
            session = await chat_store.create_session(conn, uuid.uuid4(), channel="web",
                                                      locale="ro", guest=True)
            await chat_events.session_changed(conn, tenant, session, "opened")
        token, _ = issue_guest_token(stack["SIMPTU_GUEST_TOKEN_SECRET"], slug,
                                     session["id"], dt.timedelta(minutes=15))
        made.append(GuestChat(tenant, session["id"], token))
        return made[-1]

    yield open_chat
    for chat in made:
        async with TenantUnitOfWork(db, chat.tenant.names) as conn:
            await conn.execute("DELETE FROM chat_sessions WHERE id = $1", chat.session_id)


@pytest.fixture(scope="session")
def node_client() -> Path:
    return node_client_dir()


@pytest.fixture
async def phoenix(node_client: Path) -> AsyncIterator[PhoenixDriver]:
    driver = await PhoenixDriver.start(node_client)
    yield driver
    await driver.close()


@dataclass
class Agent:
    """Publishes what the agent would on the tenant's outbound topic, text sealed."""

    producer: EventProducer
    keyring: KeyRing

    async def say(self, chat: GuestChat, event_type: str, data: dict[str, Any]) -> None:
        event = CloudEvent(source="/simptu/agent", type=event_type, tenantid=chat.tenant.slug,
                           subject=str(chat.session_id),
                           data={"session_id": str(chat.session_id), **data})
        await self.producer.publish(chat.tenant.names.topic("outbound"), event,
                                    str(chat.session_id))

    async def reply(self, chat: GuestChat, pieces: list[str],
                    in_reply_to: str | None = None) -> uuid.UUID:
        """A streamed reply: its deltas, then the whole text."""
        cipher = self.keyring.cipher(chat.tenant.names)
        message_id = uuid.uuid4()
        for seq, piece in enumerate(pieces):
            await self.say(chat, contract.REPLY_DELTA, {
                "message_id": str(message_id), "seq": seq,
                "delta_sealed": await contract.seal_text(cipher, message_id, piece)})
        await self.say(chat, contract.REPLY, {
            "message_id": str(message_id), "in_reply_to": in_reply_to,
            "text_sealed": await contract.seal_text(cipher, message_id, "".join(pieces))})
        return message_id


@pytest.fixture(scope="session")
async def agent(stack: StackEnv, db: asyncpg.Pool, redis_client: aioredis.Redis,
                core_settings: CoreSettings) -> AsyncIterator[Agent]:
    async with EventProducer(stack.kafka, client_id="ws-test-agent") as producer, \
            KeyRing(db, OpenBaoTransit.from_settings(core_settings)) as keyring:
        yield Agent(producer, keyring)


async def reader_at_end(stack: StackEnv, topic: str) -> AIOKafkaConsumer:
    """A consumer of every partition of `topic`, positioned at its end."""
    consumer = AIOKafkaConsumer(**stack.kafka.client_options(), group_id=None,
                                enable_auto_commit=False)
    await consumer.start()
    cluster = await consumer._client.fetch_all_metadata()  # no public call gives partitions
    partitions = [TopicPartition(topic, p) for p in cluster.partitions_for_topic(topic) or ()]
    assert partitions, f"{topic} has no partitions"
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for partition in partitions:  # settle the positions before anything is published
        await consumer.position(partition)
    return consumer


async def next_event(consumer: AIOKafkaConsumer, event_type: str,
                     session_id: uuid.UUID) -> CloudEvent:
    """The next event of `event_type` about the session."""
    async for record in consumer:
        event = CloudEvent.from_bytes(record.value)
        if event.type == event_type and event.subject == str(session_id):
            return event
    raise AssertionError("the consumer stopped")
