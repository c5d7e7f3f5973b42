"""Each fault, injected at a well-defined moment while the load runs, and what it cost: the
tests assert the ledger is clean, `bench/bench_faults.py` prints the same runs as a table."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.events import CloudEvent
from simptu.runtime.ws.first_pushes import part_of

from .load import Ledger, Load, Sent
from .runtimes import PrivatePlatform

# The hub's name of each reply part's event.
PUSHES = {contract.REPLY_DELTA: "reply_delta", contract.REPLY: "reply"}
READY_TIMEOUT = 30.0  # bound on /readyz reaching the expected answer
REDIS_DOWN = 3.0  # how long Redis stays down


@dataclass
class Outcome:
    fault: str
    ledger: Ledger
    restart_seconds: float  # from launching the killed process to its /readyz answering 200
    heal_seconds: float  # from the kill to the first reply a client got after it
    # Reply parts the platform published more than once (a restarted agent streams a reply
    # again): what the hub had to push once; 0 when the fault came between two turns.
    resent_parts: int = 0
    # From starting the killed service again to the first reply a client got after that;
    # None where the fault's table row does not measure it.
    restart_to_reply: float | None = None


def _first_answer_after(batches: list[list[Sent]], killed: float) -> float:
    answered = [sent.answered_at for batch in batches for sent in batch
                if sent.answered_at is not None and sent.answered_at > killed]
    return min(answered, default=float("inf")) - killed


async def killed_mid_reply(platform: PrivatePlatform, load: Load, name: str, *,
                           restart: bool = True, label: str | None = None) -> Outcome:
    """A runtime on the reply's path (`ws`, `agent`) killed after a reply's first delta
    reached a client, and started again (unless another replica takes over); the clients
    stay connected or reconnect and resume."""
    await load.round()
    batch = await load.post()
    await load.accepted(batch)
    await load.first_delta(batch)
    killed = time.monotonic()
    platform[name].kill()
    restarted = await platform[name].start() if restart else 0.0
    await load.answered(batch)
    after = await load.round()
    return Outcome(label or f"{name} killed mid-reply", await load.check(), restarted,
                   _first_answer_after([batch, after], killed), await resent_parts(platform))


async def topic_events(platform: PrivatePlatform, kind: str) -> list[CloudEvent]:
    """Every event the tenant's `kind` topic holds, from its beginning to its end now."""
    topic = platform.tenant.names.topic(kind)
    consumer = AIOKafkaConsumer(**platform.kafka.client_options(), group_id=None,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p)
                      for p in (await consumer._client.fetch_all_metadata())  # no public call
                      .partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        events: list[CloudEvent] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                events.extend(CloudEvent.from_bytes(record.value) for record in records)
        return events
    finally:
        await consumer.stop()


async def resent_parts(platform: PrivatePlatform) -> int:
    """How many reply parts (a delta's message and seq, a whole reply) the tenant's outbound
    topic carries more than once."""
    parts = Counter(part_of(PUSHES[event.type], event.data)
                    for event in await topic_events(platform, "outbound")
                    if event.type in PUSHES)
    return sum(n - 1 for n in parts.values())


async def republished(platform: PrivatePlatform, kind: str) -> int:
    """How many events (by id) the tenant's `kind` topic carries more than once."""
    ids = Counter(event.id for event in await topic_events(platform, kind))
    return sum(n - 1 for n in ids.values())


async def hub_of_two_killed(platform: PrivatePlatform, load: Load) -> Outcome:
    """Two hub replicas, as many conversations on each; one killed and started again (its
    pod, restarted): the other replica's conversations go on, the killed one's resume."""
    await platform["ws2"].start()
    await load.open(len(load.conversations), platform.hub_url("ws2"))
    return await killed_mid_reply(platform, load, "ws", label="ws killed mid-reply (one of two)")


async def agent_of_two_killed(platform: PrivatePlatform, load: Load) -> Outcome:
    """Two agent workers in one consumer group; one killed and not started again: the other
    is given its partitions (after the group's session timeout) and answers its customers."""
    await platform["agent2"].start()
    return await killed_mid_reply(platform, load, "agent", restart=False,
                                  label="agent killed mid-reply (one of two, not restarted)")


async def api_killed(platform: PrivatePlatform, load: Load) -> Outcome:
    """The API killed: a REST call is refused at once (the caller retries), the chat goes on
    through the hub; the API starts again and its history holds everything."""
    await load.round()
    killed = time.monotonic()
    platform["api"].kill()
    refused = await _refused(platform.api_url)
    during = await load.round()
    restart = await platform["api"].start()
    ledger = await load.check()
    ledger.refusals[f"REST: {refused}"] += 1
    return Outcome("api killed", ledger, restart, _first_answer_after([during], killed))


async def _refused(url: str) -> str:
    """How a REST call is refused while the API is down (the caller retries on it)."""
    async with httpx.AsyncClient(base_url=url, timeout=5) as api:
        try:
            answer = await api.get("/readyz")
        except httpx.ConnectError:
            return "connection refused"
    return f"answered {answer.status_code}"


async def readiness(url: str) -> int:
    async with httpx.AsyncClient(timeout=10) as http:
        return (await http.get(url)).status_code


async def until_ready_is(platform: PrivatePlatform, names: list[str], status: int) -> None:
    """Until every named runtime's /readyz answers `status` (bounded)."""
    async with asyncio.timeout(READY_TIMEOUT):
        for name in names:
            while True:
                if await readiness(platform[name].ready_url) == status:
                    break
                await asyncio.sleep(0.2)


async def redis_killed(platform: PrivatePlatform, load: Load) -> Outcome:
    """The hub's and the API's Redis killed after a reply's first delta: both say they are not
    ready while it is down; the rest of the reply, streamed meanwhile, reaches the clients
    once Redis is back (its append-only file kept the resume log and the claims)."""
    await load.round()
    batch = await load.post()
    await load.accepted(batch)
    await load.first_delta(batch)
    killed = time.monotonic()
    platform["redis"].kill()
    await until_ready_is(platform, ["ws", "api"], 503)
    await asyncio.sleep(REDIS_DOWN)  # the agent streams on meanwhile
    restart = await platform["redis"].start()
    await until_ready_is(platform, ["ws", "api"], 200)
    await load.answered(batch)
    after = await load.round()
    return Outcome("redis (of the hub and API) killed mid-reply", await load.check(), restart,
                   _first_answer_after([batch, after], killed))


async def agent_killed_mid_booking(platform: PrivatePlatform, load: Load) -> Outcome:
    """The agent killed after the answer to a booking's confirmation began streaming (the
    booking is made, its reply half out) and started again: each booking exists once, each
    confirmation is answered once."""
    await load.round()
    batch = await load.request_bookings()
    mark = len(load.phoenix.seen)
    await load.confirm(batch)
    await load.first_delta([booking.request for booking in batch], mark)
    killed = time.monotonic()
    platform["agent"].kill()
    restarted = await platform["agent"].start()
    await load.confirmed(batch)
    after = await load.round()
    return Outcome("agent killed mid-booking", await load.check(), restarted,
                   _first_answer_after([after], killed), await resent_parts(platform))


Scenario = Callable[[PrivatePlatform, Load], Awaitable[Outcome]]


async def hub_killed(platform: PrivatePlatform, load: Load) -> Outcome:
    return await killed_mid_reply(platform, load, "ws")


async def agent_killed(platform: PrivatePlatform, load: Load) -> Outcome:
    return await killed_mid_reply(platform, load, "agent")


SCENARIOS: dict[str, Scenario] = {
    "hub": hub_killed, "agent": agent_killed, "agent-mid-booking": agent_killed_mid_booking,
    "api": api_killed, "redis": redis_killed,
    "hub-of-two": hub_of_two_killed, "agent-of-two": agent_of_two_killed}
