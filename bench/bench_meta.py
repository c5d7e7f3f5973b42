"""Meta's webhook (WhatsApp) against the running local stack; prints markdown tables.

    .venv/bin/python bench/bench_meta.py [--requests N] [--concurrency 1 16] [--conversations C]

Posts signed WhatsApp text deliveries, as Meta would, to the API `make up` runs (one process,
`POST /v1/webhooks/meta`) for the demo clinic zambet-dental-cluj, each from a customer of its
own (a Romanian mobile number) with a fresh wamid, and measures:

1. one conversation at a time: a customer's message → the 200, and → the agent's reply (local
   model) received by the Graph API stand-in, timed to the stand-in's own record of that send
   (same machine clock), not to when polling noticed it. Goal: p50 < 300 ms.
2. accept latency (to the 200: signature checked over the raw bytes, message stored sealed,
   events queued) and webhooks/s at each number in flight, with the API process's CPU time
   per webhook and how busy the machine was (/proc). Goals: p99 < 20 ms, ≥ 1,000/s.

Every accepted message is answered by the stack's agent and its reply sent by the channel
senders to the stand-in, so keep N moderate: the run waits until every customer it wrote as has
had a reply (printed: how long after the last post, and the messages/s through the whole
path), then removes its conversations (messages, deliveries, outbox rows, agent checkpoints).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import asyncpg
import httpx
import uvloop
from bench_pipeline import remove_sessions  # a script beside this one: bench/ is on sys.path

from simptu.devstack.demo_channels import DemoChannel, demo_channel
from simptu.devstack.envfile import StackEnv
from simptu.devstack.processes import ManagedProcess
from simptu.devstack.settings import DevstackSettings
from simptu.devstack.standins.meta_control import MetaGraphControl
from simptu.devstack.standins.meta_payloads import encode, new_wamid, sign, whatsapp_text
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

TENANT = "zambet-dental-cluj"
QUESTION = "Cât costă o consultație?"
WARM_UP = 10  # webhooks posted before the first concurrency level, not counted
REPLY_WAIT = 30.0  # seconds a reply may take in the sequential run before the bench fails


@dataclass(frozen=True)
class Webhook:
    """One delivery, built and signed before the clock starts."""

    customer: str
    wamid: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class CpuClock:
    """CPU seconds used so far by the API process and by the whole machine (every core)."""

    api: float
    machine: float
    wall: float

    @classmethod
    def read(cls, api_pid: int) -> CpuClock:
        ticks = os.sysconf("SC_CLK_TCK")
        # Fields 14 and 15 (utime, stime); the command name may hold spaces, so split after ')'.
        stat = Path(f"/proc/{api_pid}/stat").read_text().rsplit(")", 1)[1].split()
        jiffies = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0]
                   .split()[1:9]]  # user nice system idle iowait irq softirq steal
        return cls((int(stat[11]) + int(stat[12])) / ticks,
                   (sum(jiffies) - jiffies[3] - jiffies[4]) / ticks, time.perf_counter())

    def since(self, start: CpuClock, webhooks: int) -> tuple[float, float]:
        """(API CPU ms per webhook, machine busy as a share of all its cores)."""
        wall = self.wall - start.wall
        return ((self.api - start.api) / webhooks * 1000,
                (self.machine - start.machine) / wall / (os.cpu_count() or 1))


class Deliveries:
    """Signed WhatsApp text deliveries to the demo clinic, each from a new customer."""

    def __init__(self, channel: DemoChannel) -> None:
        self.channel = channel
        self.posted: list[Webhook] = []
        self._customers: set[str] = set()

    def new(self, text: str = QUESTION) -> Webhook:
        customer = self._new_customer()
        wamid = new_wamid()
        body = encode(whatsapp_text(self.channel.object_id, customer, text, message_id=wamid,
                                    display_phone_number=self.channel.display_phone_number
                                    or "40740100200"))
        webhook = Webhook(customer, wamid, body, {
            "Content-Type": "application/json", "User-Agent": "facebookexternalua",
            "X-Hub-Signature-256": sign(self.channel.app_secret, body)})
        self.posted.append(webhook)
        return webhook

    def _new_customer(self) -> str:
        while (customer := f"4072{secrets.randbelow(10**7):07d}") in self._customers:
            pass
        self._customers.add(customer)
        return customer


async def post(http: httpx.AsyncClient, url: str, webhook: Webhook) -> float:
    """Seconds to the API's 200; anything else, or a message not stored as new, fails."""
    started = time.perf_counter()
    answer = await http.post(url, content=webhook.body, headers=webhook.headers)
    elapsed = time.perf_counter() - started
    if answer.status_code != 200 or answer.json().get("messages") != 1:
        raise RuntimeError(f"webhook from {webhook.customer}: {answer.status_code} {answer.text}")
    return elapsed


async def accept_run(http: httpx.AsyncClient, url: str, deliveries: Deliveries, requests: int,
                     concurrency: int) -> tuple[float, list[float]]:
    """(webhooks/s, latencies in seconds) of `requests` deliveries, `concurrency` in flight."""
    batch = [deliveries.new() for _ in range(requests)]
    slots = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(webhook: Webhook) -> None:
        async with slots:
            latencies.append(await post(http, url, webhook))

    started = time.perf_counter()
    await asyncio.gather(*(one(webhook) for webhook in batch))
    return requests / (time.perf_counter() - started), latencies


async def reply_run(http: httpx.AsyncClient, url: str, standin: MetaGraphControl,
                    deliveries: Deliveries, conversations: int) -> tuple[list[float], list[float]]:
    """(to the 200, to the reply at the stand-in) of conversations one at a time; the first
    (models, keys and caches warming) is not counted."""
    accepted: list[float] = []
    replied: list[float] = []
    for n in range(conversations + 1):
        webhook = deliveries.new()
        sent_at = dt.datetime.now(dt.UTC)
        to_200 = await post(http, url, webhook)
        calls = await standin.wait_for_calls(1, object_id=deliveries.channel.object_id,
                                             recipient=webhook.customer, within=REPLY_WAIT)
        if n:
            accepted.append(to_200)
            replied.append((dt.datetime.fromisoformat(calls[0]["at"]) - sent_at)
                           .total_seconds())
    return accepted, replied


async def drain(standin: MetaGraphControl, deliveries: Deliveries,
                within: float) -> tuple[int, dt.datetime]:
    """(customers answered, the stand-in's time of the last send to them) once every customer
    has had a reply, or when `within` seconds have passed."""
    waiting = {webhook.customer for webhook in deliveries.posted}
    deadline = time.monotonic() + within
    while True:
        calls = [call for call in await standin.calls(deliveries.channel.object_id)
                 if call["recipient"] in waiting]
        answered = {call["recipient"] for call in calls}
        if answered == waiting or time.monotonic() > deadline:
            return len(answered), max((dt.datetime.fromisoformat(call["at"]) for call in calls),
                                      default=dt.datetime.now(dt.UTC))
        await asyncio.sleep(0.5)


async def remove(db: asyncpg.Pool, deliveries: Deliveries) -> None:
    """The conversations the benchmark's messages opened, found by their provider ids."""
    client_ids = [f"whatsapp:{webhook.wamid}" for webhook in deliveries.posted]
    async with TenantUnitOfWork(db, TenantNames(TENANT)) as conn:
        sessions = [row["session_id"] for row in await conn.fetch(
            "SELECT DISTINCT session_id FROM chat_messages WHERE client_msg_id = ANY($1::text[])",
            client_ids)]
    await remove_sessions(db, TENANT, sessions)


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), "unknown CPU")
    memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    return (f"{os.cpu_count()} cores, {model}, {memory / 2**20:.0f} GiB, load average "
            f"{os.getloadavg()[0]:.2f} at the start")


def ms(values: list[float], q: int) -> str:
    """The q-th percentile in milliseconds (within the values measured)."""
    return f"{statistics.quantiles(values, n=100, method='inclusive')[q - 1] * 1000:.1f}"


@dataclass(frozen=True)
class AcceptLevel:
    concurrency: int
    webhooks: int
    rate: float
    latencies: list[float]
    api_cpu_ms: float  # the API process's CPU per webhook posted
    machine_busy: float  # share of every core's time


async def accept_levels(api_pid: int, levels: list[int], requests: int,
                        run: Callable[[int, int], Awaitable[tuple[float, list[float]]]],
                        ) -> list[AcceptLevel]:
    """`run(requests, in flight)` at each level in turn, with the API process's CPU per
    webhook and how busy the machine was (bench_twilio.py measures its SMS with it too)."""
    accepts = []
    for concurrency in levels:
        print(f"{requests} webhooks, {concurrency} in flight ...", flush=True)
        before = CpuClock.read(api_pid)
        rate, latencies = await run(requests, concurrency)
        accepts.append(AcceptLevel(concurrency, requests, rate, latencies,
                                   *CpuClock.read(api_pid).since(before, requests)))
    return accepts


def print_accepts(accepts: list[AcceptLevel], rate_goal: str) -> None:
    """The accept table: one row a level, `rate_goal` beside webhooks/s."""
    print(f"| in flight | webhooks | webhooks/s{rate_goal} | p50 ms | p99 ms (goal < 20) "
          "| max ms | API CPU ms per webhook | machine busy |\n"
          "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for level in accepts:
        print(f"| {level.concurrency} | {level.webhooks} | {level.rate:.0f} "
              f"| {ms(level.latencies, 50)} | {ms(level.latencies, 99)} "
              f"| {max(level.latencies) * 1000:.1f} | {level.api_cpu_ms:.1f} "
              f"| {level.machine_busy:.0%} |")


@dataclass(frozen=True)
class WholePath:
    """From the first webhook of the accept runs to the last reply at the stand-in."""

    posted: int  # in all, one at a time included
    answered: int
    burst: int  # webhooks from the first of the accept runs on
    first_post: dt.datetime
    last_post: dt.datetime
    last_reply: dt.datetime


def print_tables(replies: tuple[list[float], list[float]], accepts: list[AcceptLevel],
                 path: WholePath) -> None:
    accepted, replied = replies
    print(f"\n{len(replied)} conversations one at a time (a first one not counted), "
          f"\"{QUESTION}\" from a new WhatsApp customer each\n")
    print("| webhook POST → | p50 ms | p99 ms | max ms |\n| --- | ---: | ---: | ---: |")
    for name, values in (("the API's 200", accepted),
                         ("the agent's reply at the Graph API stand-in (goal p50 < 300)",
                          replied)):
        print(f"| {name} | {ms(values, 50)} | {ms(values, 99)} | {max(values) * 1000:.1f} |")
    print("\nWebhook accept on the stack's one API process (to the 200)\n")
    print_accepts(accepts, " (goal ≥ 1,000)")
    print("\n(The agent answers, the senders send and the stand-in posts three status "
          "webhooks per reply to the same API process while these run.)")
    last_reply = (path.last_reply - path.last_post).total_seconds()
    print(f"\n{path.posted} webhooks posted in all (warm-ups included), each answered by the "
          f"stack's agent: {path.answered} of {path.posted} customers had their reply at the "
          f"stand-in, the last {last_reply:.1f} s after the last post; the {path.burst} "
          "posted from the first accept run on, to the last reply: "
          f"{path.burst / (path.last_reply - path.first_post).total_seconds():.1f} "
          "messages/s through the whole path.")


async def main(requests: int, levels: list[int], conversations: int, drain_within: float,
               ) -> None:
    stack = StackEnv.load(DevstackSettings().env_file)
    print(f"machine: {machine()}", flush=True)
    url = f"{stack['SIMPTU_API_URL']}/v1/webhooks/meta"
    api_pid = ManagedProcess("api", DevstackSettings().state_dir / "run").pid()
    if api_pid is None:
        raise SystemExit("the stack's API is not running: make up")
    deliveries = Deliveries(demo_channel(TENANT, "whatsapp"))
    db = await asyncpg.create_pool(stack["SIMPTU_DATABASE_URL"], min_size=1, max_size=2)
    limits = httpx.Limits(max_connections=max(levels), max_keepalive_connections=max(levels))
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        standin = MetaGraphControl(http, stack["SIMPTU_META_GRAPH_URL"])
        try:
            print(f"{conversations} conversations one at a time ...", flush=True)
            replies = await reply_run(http, url, standin, deliveries, conversations)
            one_at_a_time = len(deliveries.posted)
            first_post = dt.datetime.now(dt.UTC)
            await accept_run(http, url, deliveries, WARM_UP, min(levels))
            accepts = await accept_levels(api_pid, levels, requests,
                                          partial(accept_run, http, url, deliveries))
            last_post = dt.datetime.now(dt.UTC)
            print(f"waiting for the agent's replies to {len(deliveries.posted)} customers ...",
                  flush=True)
            answered, last_reply = await drain(standin, deliveries, drain_within)
            await asyncio.sleep(1)  # the stand-in's status webhooks for the last replies
        finally:
            await remove(db, deliveries)
            await db.close()
    print_tables(replies, accepts, WholePath(
        len(deliveries.posted), answered, len(deliveries.posted) - one_at_a_time, first_post,
        last_post, last_reply))
    if answered < len(deliveries.posted):
        raise SystemExit(f"{len(deliveries.posted) - answered} customers had no reply within "
                         f"{drain_within:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=800,
                        help="webhooks measured per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16],
                        help="webhooks in flight, one level after another")
    parser.add_argument("--conversations", type=int, default=20,
                        help="conversations measured one at a time, to the agent's reply")
    parser.add_argument("--drain-within", type=float, default=600.0,
                        help="seconds to wait for every reply before removing the conversations")
    args = parser.parse_args()
    uvloop.run(main(args.requests, args.concurrency, args.conversations, args.drain_within))
