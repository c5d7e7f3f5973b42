"""Fixtures of the agent tests: tenants of each business type provisioned the way the operator
does (schema, migrations, keys, topics, registry row, demo catalogue), the agent worker as a
real process serving them, and a `Chat` that talks to it at the event level as the WS hub does
(stores the customer's message, publishes `message.received`, reads `outbound`)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, TopicPartition

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.bookings.demo import seed_demo_catalogue
from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.chat import store
from simptu.runtime.core.crypto import KeyRing, OpenBaoTransit, TenantCipher, ensure_data_key
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events import CloudEvent, EventProducer
from simptu.runtime.core.events.topics import (
    TopicSettings,
    ensure_tenant_topics,
    kafka_admin,
    remove_tenant_topics,
)
from simptu.runtime.core.kafka_access import KafkaAccess, kafka_access
from simptu.runtime.core.knowledge.demo import seed_demo_faq
from simptu.runtime.core.migrations import migrate_tenant
from simptu.runtime.core.registry import TenantAgent, TenantRecord, delete_tenant, upsert_tenant
from simptu.runtime.core.schemas import drop_tenant_schema, ensure_tenant_schema
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames
from tests.model import session_embedder
from tests.ports import free_port

TIMEZONE = "Europe/Bucharest"
HUB_SOURCE = "/simptu/ws"
# How long a test waits for the agent's answer: a restarted worker first waits for Kafka to
# give it the partitions of the worker it replaces.
ANSWER_TIMEOUT = 60.0


@dataclass(frozen=True)
class AgentTenant:
    names: TenantNames
    business_type: str

    @property
    def slug(self) -> str:
        return self.names.slug


async def provision(conn: asyncpg.Connection, redis: aioredis.Redis, transit: OpenBaoTransit,
                    bootstrap: KafkaAccess | str, slug: str, business_type: str,
                    agent: TenantAgent) -> AgentTenant:
    names = TenantNames(slug)
    await ensure_tenant_schema(conn, names)
    await migrate_tenant(conn, names)
    await ensure_data_key(conn, transit, names)
    async with kafka_admin(bootstrap) as admin:
        await ensure_tenant_topics(admin, names, TopicSettings(partitions=2))
    await upsert_tenant(conn, redis, TenantRecord(
        slug=slug, status="Ready", business_type=business_type,  # type: ignore[arg-type]
        display_name=f"Test {business_type}", schema_name=names.schema,
        transit_key=names.transit_key, locale="ro", timezone=TIMEZONE, agent=agent))
    async with conn.transaction():
        await conn.execute(f"SET LOCAL ROLE {names.role}; SET LOCAL search_path TO {names.schema}")
        await seed_demo_catalogue(conn, business_type)  # type: ignore[arg-type]
        await seed_demo_faq(conn, session_embedder(), business_type)
    return AgentTenant(names, business_type)


async def unprovision(conn: asyncpg.Connection, redis: aioredis.Redis, transit: OpenBaoTransit,
                      bootstrap: KafkaAccess | str, tenant: AgentTenant) -> None:
    await delete_tenant(conn, redis, tenant.slug)
    await drop_tenant_schema(conn, tenant.names)
    await transit.destroy_key(tenant.names.transit_key)
    async with kafka_admin(bootstrap) as admin:
        await remove_tenant_topics(admin, tenant.names)


@pytest.fixture(scope="session")
def agent_prefix() -> str:
    """Slugs of the agent tests' tenants start with this (`agt<hex>-`)."""
    return f"agt{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
async def agent_tenants(db: asyncpg.Pool, redis_client: aioredis.Redis,
                        core_settings: CoreSettings, agent_prefix: str,
                        ) -> AsyncIterator[dict[str, AgentTenant]]:
    """A dental clinic, a gym and a hotel, on the local model (by business type), and two
    more dental clinics whose double-texting policy is `reject` and `interrupt` (by policy);
    removed afterwards."""
    transit = OpenBaoTransit.from_settings(core_settings)
    made: dict[str, AgentTenant] = {}
    wanted = [(business_type, business_type, TenantAgent())
              for business_type in ("dental-clinic", "gym", "hotel")]
    wanted += [(policy, "dental-clinic", TenantAgent(double_texting=policy))
               for policy in ("reject", "interrupt")]
    try:
        async with db.acquire() as conn:
            for key, business_type, agent in wanted:
                made[key] = await provision(
                    conn, redis_client, transit, core_settings.kafka,
                    f"{agent_prefix}-{key}", business_type, agent)
        yield made
    finally:
        async with db.acquire() as conn:
            for tenant in made.values():
                await unprovision(conn, redis_client, transit, core_settings.kafka,
                                  tenant)


class AgentProcess:
    """`python -m simptu.runtime.agent` as a child process, started and killed by the test."""

    def __init__(self, stack: StackEnv, args: list[str], env: dict[str, str]) -> None:
        self.port = free_port()
        self.args = args
        self.env = {**os.environ, **stack.values, "SIMPTU_AGENT_PORT": str(self.port),
                    "SIMPTU_AGENT_TENANT_REFRESH_SECONDS": "1", **env}
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self) -> subprocess.Popen[bytes]:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "simptu.runtime.agent", *self.args,
             "--port", str(self.port)], env=self.env)
        return self.process

    async def start(self) -> None:
        """Launch the worker and wait until it answers /readyz."""
        self.launch()
        assert self.process is not None
        async with httpx.AsyncClient(timeout=2) as http:
            for _ in range(300):
                assert self.process.poll() is None, "the agent worker exited at start"
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"http://127.0.0.1:{self.port}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise AssertionError("the agent worker did not become ready in 60 s")

    def kill(self) -> None:
        """SIGKILL: no chance to finish the turn, commit offsets or leave the group."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


AgentFactory = Callable[..., AgentProcess]


@pytest.fixture
async def agent_process(stack: StackEnv) -> AsyncIterator[AgentFactory]:
    made: list[AgentProcess] = []

    def make(args: list[str], env: dict[str, str] | None = None) -> AgentProcess:
        made.append(AgentProcess(stack, args, env or {}))
        return made[-1]

    yield make
    for process in made:
        process.stop()


@pytest.fixture(scope="session")
async def agent_worker(stack: StackEnv, agent_tenants: dict[str, AgentTenant],
                       agent_prefix: str) -> AsyncIterator[AgentProcess]:
    """One worker serving the three tenants (`--all`, restricted to this session's tenants)."""
    worker = AgentProcess(stack, ["--all"], {"SIMPTU_AGENT_TENANTS": f"{agent_prefix}-*",
                                             "SIMPTU_AGENT_GROUP_ID": f"{agent_prefix}-agent"})
    await worker.start()
    yield worker
    worker.stop()


@dataclass
class Answer:
    """One reply of the agent: its pieces, its whole text, and a function call it made."""

    message_id: uuid.UUID
    deltas: list[str]
    text: str
    call: dict[str, Any] | None = None


@dataclass
class Chat:
    """A conversation with the agent, spoken the way the WS hub speaks it."""

    tenant: AgentTenant
    pool: asyncpg.Pool
    producer: EventProducer
    ring: KeyRing
    bootstrap: KafkaAccess | str
    session_id: uuid.UUID = field(default_factory=uuid.uuid4)
    sent: list[CloudEvent] = field(default_factory=list)
    # Every outbound event of the session read so far.
    seen: list[CloudEvent] = field(default_factory=list)
    _outbound: AIOKafkaConsumer | None = None
    _unread: list[CloudEvent] = field(default_factory=list)

    @property
    def cipher(self) -> TenantCipher:
        return self.ring.cipher(self.tenant.names)

    async def open(self, locale: str = "ro") -> None:
        async with TenantUnitOfWork(self.pool, self.tenant.names) as conn:
            await store.create_session(conn, self.session_id, channel="web", locale=locale,
                                       guest=True)
        self._outbound = AIOKafkaConsumer(**kafka_access(self.bootstrap).client_options())
        await self._outbound.start()
        topic = self.tenant.names.topic("outbound")
        async with kafka_admin(self.bootstrap) as admin:
            [described] = await admin.describe_topics([topic])
        partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
        assert partitions, f"{topic} has no partitions"
        self._outbound.assign(partitions)
        await self._outbound.seek_to_end(*partitions)
        for partition in partitions:  # resolve the position now, before anything is sent
            await self._outbound.position(partition)

    async def close(self) -> None:
        if self._outbound is not None:
            await self._outbound.stop()

    async def say(self, text: str) -> CloudEvent:
        """Store the customer's message and publish `message.received` (what the hub does)."""
        event = await self.write(text)
        await self.send(event)
        return event

    async def write(self, text: str) -> CloudEvent:
        """Store the customer's message; its `message.received` event, not published yet."""
        async with TenantUnitOfWork(self.pool, self.tenant.names) as conn:
            message, sealed = await store.add_message(
                conn, self.ring.cipher(self.tenant.names, conn), self.session_id, "customer",
                None, text)
        return CloudEvent(source=HUB_SOURCE, type=contract.MESSAGE_RECEIVED,
                           tenantid=self.tenant.slug, subject=str(self.session_id),
                           data=contract.MessageReceived(
                               session_id=self.session_id, message_id=message["id"],
                               seq=message["seq"], author="customer", channel="web",
                               locale="ro", body_sealed=base64.b64encode(sealed).decode(),
                           ).model_dump(mode="json"))

    async def confirm(self, call: dict[str, Any], confirmed: bool = True) -> CloudEvent:
        """The page's answer to a function call."""
        event = CloudEvent(source=HUB_SOURCE, type=contract.FUNCTION_RESULT,
                           tenantid=self.tenant.slug, subject=str(self.session_id),
                           data=contract.FunctionResult(
                               session_id=self.session_id, call_id=call["call_id"],
                               result={"confirmed": confirmed}).model_dump(mode="json"))
        await self.send(event)
        return event

    async def send(self, event: CloudEvent) -> None:
        self.sent.append(event)
        await self.producer.publish(self.tenant.names.topic("inbound"), event,
                                    str(self.session_id))

    async def events(self, until: Callable[[CloudEvent], bool],
                     within: float = ANSWER_TIMEOUT) -> list[CloudEvent]:
        """Outbound events of this session, read until one satisfies `until` (what one fetch
        brings beyond it is kept for the next read)."""
        assert self._outbound is not None
        found: list[CloudEvent] = []
        async with asyncio.timeout(within):
            while True:
                while self._unread:
                    event = self._unread.pop(0)
                    self.seen.append(event)
                    found.append(event)
                    if until(event):
                        return found
                batch = await self._outbound.getmany(timeout_ms=200)
                # One session's events share a partition, so they arrive in order.
                self._unread.extend(
                    event for records in batch.values() for record in records
                    if (event := CloudEvent.from_bytes(record.value)).data.get("session_id")
                    == str(self.session_id))

    async def answer(self, within: float = ANSWER_TIMEOUT) -> Answer:
        """The agent's next whole reply (and the function call it made with it)."""
        events = await self.events(lambda e: e.type == contract.REPLY, within)
        reply = contract.Reply.model_validate(events[-1].data)
        deltas = [contract.ReplyDelta.model_validate(e.data) for e in events
                  if e.type == contract.REPLY_DELTA and e.data["message_id"] == str(
                      reply.message_id)]
        calls = [e.data for e in events if e.type == contract.FUNCTION_CALL]
        opened = [await contract.open_text(self.cipher, reply.message_id, d.delta_sealed)
                  for d in sorted(deltas, key=lambda d: d.seq)]
        text = await contract.open_text(self.cipher, reply.message_id, reply.text_sealed)
        return Answer(reply.message_id, opened, text, calls[-1] if calls else None)

    async def bookings(self) -> list[asyncpg.Record]:
        async with TenantUnitOfWork(self.pool, self.tenant.names) as conn:
            return list(await conn.fetch(
                "SELECT b.* FROM bookings b JOIN chat_sessions s ON s.customer_id = b.customer_id "
                "WHERE s.id = $1 ORDER BY b.created_at", self.session_id))

    async def handled(self, event: CloudEvent, within: float = ANSWER_TIMEOUT) -> None:
        """Wait until the agent has recorded `event` as handled (answered or not)."""
        async with asyncio.timeout(within):
            while True:
                async with TenantUnitOfWork(self.pool, self.tenant.names) as conn:
                    if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM processed_events "
                                           "WHERE consumer = 'agent' AND event_id = $1)",
                                           event.id):
                        return
                await asyncio.sleep(0.05)

    async def agent_messages(self) -> list[asyncpg.Record]:
        async with TenantUnitOfWork(self.pool, self.tenant.names) as conn:
            return list(await conn.fetch(
                "SELECT id, seq FROM chat_messages WHERE session_id = $1 AND author = 'agent' "
                "ORDER BY seq", self.session_id))


ChatFactory = Callable[[AgentTenant], Chat]


@pytest.fixture
async def chat(db: asyncpg.Pool, producer: EventProducer, key_ring: KeyRing,
               core_settings: CoreSettings) -> AsyncIterator[Callable[..., Any]]:
    """`conversation = await chat(tenant)`: a new session of a guest with the tenant."""
    made: list[Chat] = []

    async def start(tenant: AgentTenant, locale: str = "ro") -> Chat:
        conversation = Chat(tenant, db, producer, key_ring, core_settings.kafka)
        await conversation.open(locale)
        made.append(conversation)
        return conversation

    yield start
    for conversation in made:
        await conversation.close()


def next_weekday(weekday: int, after: dt.date | None = None) -> dt.date:
    """The next date (after today, in the tenants' zone) that is ISO `weekday`."""
    from zoneinfo import ZoneInfo

    today = after or dt.datetime.now(ZoneInfo(TIMEZONE)).date()
    return today + dt.timedelta(days=(weekday - today.isoweekday() - 1) % 7 + 1)
