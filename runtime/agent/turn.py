"""One turn of a conversation: an inbound event (a customer's message, or the page's answer to
a function call: a confirmation, or a slot picked as if its time were typed) run through the
session's graph, inside the unit of work that also records the event as handled.

Exactly once, however often the event is delivered and wherever the worker dies: the booking
and the stored reply commit with the event's idempotency record; the checkpoints LangGraph
wrote meanwhile are tagged with the turn, and a turn that runs again starts from the
checkpoint before its first attempt (a fork), so it replays to the same reply, call and
booking ids instead of continuing from a half-done attempt."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import redis.asyncio as aioredis
import structlog
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command

from simptu.runtime.agent.actions import TenantRepository
from simptu.runtime.agent.checkpoints import KeyVersionNeeded
from simptu.runtime.agent.double_texting import TurnSuperseded, unanswered_texts, watch_for_newer
from simptu.runtime.agent.metrics import TURN_SECONDS, TURNS
from simptu.runtime.agent.outbound import ReplyStream
from simptu.runtime.agent.slot_picker import picked
from simptu.runtime.agent.state import TurnContext
from simptu.runtime.agent.templates import render
from simptu.runtime.agent.tenants import ServedTenant, ServedTenants
from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.chat import store
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.embeddings import Embedder
from simptu.runtime.core.events import CloudEvent, EventProducer
from simptu.runtime.core.language import Locale
from simptu.runtime.core.registry import TenantRecord, TenantRegistry

log = structlog.get_logger(__name__)
RESUME = "__resume__"  # LangGraph's channel of an interrupt's answer (langgraph._internal)


@dataclass(frozen=True)
class TurnInput:
    """What starts a turn: a customer's text (`seq` of its message) or a function result."""

    session_id: uuid.UUID
    text: str | None = None
    seq: int | None = None
    in_reply_to: uuid.UUID | None = None
    result: contract.FunctionResult | None = None


@dataclass(eq=False)
class Turns:
    registry: TenantRegistry
    ring: KeyRing
    tenants: ServedTenants
    producer: EventProducer
    pool: asyncpg.Pool
    poll_seconds: float
    embedder: Embedder
    redis: aioredis.Redis

    async def handle(self, event: CloudEvent, conn: asyncpg.Connection) -> None:
        """The idempotent handler: runs in the unit of work that records `event` as handled."""
        started = time.perf_counter()
        structlog.contextvars.bind_contextvars(tenant=event.tenantid, event_id=event.id)
        tenant = await self.registry.require_ready(event.tenantid)
        served = await self.tenants.get(tenant)
        turn = await self._turn_input(event, tenant, served, conn)
        outcome = "ignored"
        if turn is not None:
            outcome = await self._run(event, tenant, served, turn, conn, started)
        TURNS.labels(tenant.business_type, outcome).inc()
        TURN_SECONDS.observe(time.perf_counter() - started)

    async def _turn_input(self, event: CloudEvent, tenant: TenantRecord, served: ServedTenant,
                          conn: asyncpg.Connection) -> TurnInput | None:
        if event.type == contract.FUNCTION_RESULT:
            result = contract.FunctionResult.model_validate(event.data)
            return TurnInput(result.session_id, result=result)
        if event.type != contract.MESSAGE_RECEIVED:
            log.info("not an event the agent answers", type=event.type)
            return None
        message = contract.MessageReceived.model_validate(event.data)
        if message.author != "customer":
            return None
        cipher = self.ring.cipher(tenant.names, conn)
        text = await contract.open_text(cipher, message.message_id, message.body_sealed)
        if served.agent.double_texting == "interrupt":
            merged = await unanswered_texts(conn, cipher, message.session_id, message.seq)
            if merged is None:  # a newer message of the session will answer this one too
                return None
            text = merged
        return TurnInput(message.session_id, text=text, seq=message.seq,
                         in_reply_to=message.message_id)

    async def _run(self, event: CloudEvent, tenant: TenantRecord, served: ServedTenant,
                   turn: TurnInput, conn: asyncpg.Connection, started: float) -> str:
        # One turn of a session at a time, even across workers during a rebalance; an advisory
        # lock, so the hub can still store the customer's next message meanwhile.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                           f"agent-turn:{turn.session_id}")
        session = await store.get_session(conn, turn.session_id)
        if session is None or session["status"] != "open":
            return "not-open"  # closed, or handed off: staff answer now
        cipher = self.ring.cipher(tenant.names, conn)
        tz = ZoneInfo(tenant.timezone)
        ctx = TurnContext(tenant=tenant, session_locale=_locale_of(session), event_id=event.id,
                          provider=served.provider, business=served.business,
                          catalogue=await served.catalogue(conn, dt.datetime.now(tz).date()),
                          tz=tz,
                          now=dt.datetime.now(dt.UTC),
                          repository=TenantRepository(conn, cipher, tenant, session, tz,
                                                      self.embedder),
                          channel=session["channel"])
        reply = ReplyStream(self.producer, tenant, cipher, turn.session_id,
                            ctx.stable_id("reply"), turn.in_reply_to, started)
        if (served.agent.double_texting == "reject" and turn.seq is not None
                and await _answered_since(conn, turn.session_id, turn.seq)):
            await _say(reply, "busy", _locale_of(session))
            await reply.store(conn, self.redis)
            return "rejected"
        await served.sealer.refresh()
        try:
            async with conn.transaction():  # a savepoint: a superseded turn leaves nothing
                outcome = await self._run_graph(event, served, turn, ctx, reply)
                await reply.store(conn, self.redis)
        except TurnSuperseded:
            return "superseded"
        return outcome

    async def _run_graph(self, event: CloudEvent, served: ServedTenant, turn: TurnInput,
                         ctx: TurnContext, reply: ReplyStream) -> str:
        for _attempt in range(3):
            try:
                config = await _fork_point(served, event, turn)
                command = await _command(served, config, turn)
                if command is None:  # a result of no call waiting, or no answer to it
                    await _say(reply, "nothing_changed", ctx.session_locale)
                    return "stale-result"
                if served.provider.slow:
                    await reply.typing()
                run = self._stream(served, command, config, ctx, reply)
                if served.agent.double_texting == "interrupt" and turn.seq is not None:
                    await watch_for_newer(run, self.pool, ctx.tenant.names, turn.session_id,
                                          turn.seq, self.poll_seconds)
                else:
                    await run
                return "answered"
            except KeyVersionNeeded as needed:  # sealed before a rotation: load that key
                await served.sealer.refresh(also_version=needed.version)
        raise RuntimeError("checkpoint keys could not be loaded")

    async def _stream(self, served: ServedTenant, command: Any, config: RunnableConfig,
                      ctx: TurnContext, reply: ReplyStream) -> None:
        # With several stream modes, LangGraph yields (mode, chunk) pairs.
        chunks: AsyncIterator[Any] = served.graph.astream(
            command, config, context=ctx, stream_mode=["custom", "updates"])
        async for mode, chunk in chunks:
            if mode == "custom" and "function_call" in chunk:
                await reply.function_call(chunk["function_call"])
            elif mode == "custom":
                await reply.delta(chunk["delta"])
            elif "__interrupt__" in chunk:
                for pending in chunk["__interrupt__"]:
                    await reply.function_call(pending.value)


def _locale_of(session: asyncpg.Record) -> Locale:
    return "en" if session["locale"].startswith("en") else "ro"


async def _say(reply: ReplyStream, key: str, locale: Locale) -> None:
    await reply.delta(render(key, locale, {}))


async def _answered_since(conn: asyncpg.Connection, session_id: uuid.UUID, seq: int) -> bool:
    """Whether the agent replied after message `seq` arrived: then it arrived while the agent
    was still answering an earlier one (double texting)."""
    found = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM chat_messages WHERE session_id = "
                                "$1 AND author = 'agent' AND seq > $2)", session_id, seq)
    return bool(found)


async def _fork_point(served: ServedTenant, event: CloudEvent,
                      turn: TurnInput) -> RunnableConfig:
    """The config a turn runs with: the session's latest checkpoint, or, when an earlier
    attempt of this turn left checkpoints behind, the one before them."""
    thread = str(turn.session_id)
    config: RunnableConfig = {"configurable": {"thread_id": thread},
                              "metadata": {"turn": event.id, "turn_seq": turn.seq or -1}}
    async with served.pool.connection() as conn:
        row = await (await conn.execute(
            "SELECT checkpoint_id, parent_checkpoint_id FROM checkpoints "
            "WHERE thread_id = %s AND checkpoint_ns = '' AND (metadata->>'turn' = %s "
            "OR (metadata->>'turn_seq')::bigint >= %s) ORDER BY checkpoint_id LIMIT 1",
            (thread, event.id, turn.seq if turn.seq is not None else 2**62))).fetchone()
    if row is None:
        return await _unfinished_resume(served.saver, config)
    if row["parent_checkpoint_id"] is None:  # the attempt began the conversation
        await served.saver.adelete_thread(thread)
        return config
    config["configurable"]["checkpoint_id"] = row["parent_checkpoint_id"]
    return config


async def _unfinished_resume(saver: BaseCheckpointSaver[Any],
                             config: RunnableConfig) -> RunnableConfig:
    """`config`, addressed at the thread's latest checkpoint when an earlier attempt of the
    turn resumed it and died before its first step's checkpoint (Postgres lost mid-step):
    its answer is then stored among the checkpoint's pending writes, and the thread's live
    state shows the question as answered, so the retry would find no call waiting and the
    booking would never be made. Addressed, the state shows the step's question again, and
    the retry resumes it (the same as without an id otherwise)."""
    latest = await saver.aget_tuple(config)
    if latest is not None and any(channel == RESUME for _task, channel, _value
                                  in latest.pending_writes or ()):
        config["configurable"]["checkpoint_id"] = latest.config["configurable"]["checkpoint_id"]
        log.info("resuming where an unfinished attempt of the turn answered")
    return config


async def _command(served: ServedTenant, config: RunnableConfig, turn: TurnInput) -> Any:
    """The graph's input: a new message, or the answer to the question it waits on."""
    snapshot = await served.graph.aget_state(config)
    waiting = [pending.value for pending in snapshot.interrupts]
    if turn.result is not None:
        if waiting and waiting[0]["call_id"] == turn.result.call_id:
            return Command(resume={"confirmed": bool(turn.result.result.get("confirmed"))})
        pick = picked(snapshot.values.get("offered"), turn.result.call_id, turn.result.result)
        if pick is None:
            log.info("function result for no pending call or offered slot",
                     call_id=turn.result.call_id)
            return None
        return {"inbound": {"text": pick["label"], "picked": pick}}
    if waiting:
        return Command(resume={"text": turn.text})
    return {"inbound": {"text": turn.text}}

