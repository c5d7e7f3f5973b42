"""Meta's webhook (WhatsApp) against the running local stack; prints markdown tables.

    .venv/bin/python bench/bench_meta.py [--requests N] [--concurrency 1 16] [--conversations C]

Posts signed WhatsApp text deliveries, as Meta would, to the API `make up` runs (one process,
`POST /v1/webhooks/meta`) for the demo clinic zambet-dental-cluj, each from a customer of its
own (a Romanian mobile number) with a fresh wamid, and measures:

1. one conversation at a time: a customer's message → the 200, and → the agent's reply (local
   model) received by the Graph API stand-in, timed to the stand-in's own record of that send
   (same machine clock), not to when polling noticed it. Goal: p50 < 300 ms.
2. accept latency (to the 200: signature checked over the raw bytes, message stored sealed,
   events queued) and webhooks/s at each number in flight. Goals: p99 < 20 ms, ≥ 1,000/s.

Every accepted message is answered by the stack's agent and its reply sent by the channel
senders to the stand-in, so keep N moderate: the run waits until every customer it wrote as has
had a reply (printed: how long after the last post), then removes its conversations (messages,
deliveries, outbox rows, the agent's checkpoints).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import uvloop
from bench_pipeline import remove_sessions  # a script beside this one: bench/ is on sys.path

from simptu.devstack.demo_channels import DemoChannel, demo_channel
from simptu.devstack.envfile import StackEnv
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
    """(webhooks/s, latencies) of `requests` deliveries, `concurrency` in flight."""
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


async def drain(standin: MetaGraphControl, deliveries: Deliveries, last_post: float,
                within: float) -> tuple[int, float]:
    """(customers answered, seconds from the last post) once every customer has had a reply,
    or when `within` seconds have passed."""
    waiting = {webhook.customer for webhook in deliveries.posted}
    deadline = time.monotonic() + within
    while True:
        answered = {call["recipient"] for call in await standin.calls(
            deliveries.channel.object_id)} & waiting
        if answered == waiting or time.monotonic() > deadline:
            return len(answered), time.perf_counter() - last_post
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


def print_tables(replies: tuple[list[float], list[float]],
                 accepts: list[tuple[int, int, float, list[float]]], posted: int,
                 answered: int, drained: float) -> None:
    accepted, replied = replies
    print(f"\n{len(replied)} conversations one at a time (a first one not counted), "
          f"\"{QUESTION}\" from a new WhatsApp customer each\n")
    print("| webhook POST → | p50 ms | p99 ms | max ms |\n| --- | ---: | ---: | ---: |")
    for name, values in (("the API's 200", accepted),
                         ("the agent's reply at the Graph API stand-in (goal p50 < 300)",
                          replied)):
        print(f"| {name} | {ms(values, 50)} | {ms(values, 99)} | {max(values) * 1000:.1f} |")
    print("\nWebhook accept on the stack's one API process (to the 200)\n")
    print("| in flight | webhooks | webhooks/s (goal ≥ 1,000) | p50 ms | p99 ms (goal < 20) "
          "| max ms |\n| ---: | ---: | ---: | ---: | ---: | ---: |")
    for concurrency, requests, rate, latencies in accepts:
        print(f"| {concurrency} | {requests} | {rate:.0f} | {ms(latencies, 50)} "
              f"| {ms(latencies, 99)} | {max(latencies) * 1000:.1f} |")
    print(f"\n{posted} webhooks posted in all (warm-ups included), each answered by the "
          f"stack's agent: {answered} of {posted} customers had their reply at the stand-in "
          f"{drained:.1f} s after the last post.")


async def main(requests: int, levels: list[int], conversations: int, drain_within: float,
               ) -> None:
    stack = StackEnv.load(DevstackSettings().env_file)
    print(f"machine: {machine()}", flush=True)
    url = f"{stack['SIMPTU_API_URL']}/v1/webhooks/meta"
    deliveries = Deliveries(demo_channel(TENANT, "whatsapp"))
    db = await asyncpg.create_pool(stack["SIMPTU_DATABASE_URL"], min_size=1, max_size=2)
    limits = httpx.Limits(max_connections=max(levels), max_keepalive_connections=max(levels))
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        standin = MetaGraphControl(http, stack["SIMPTU_META_GRAPH_URL"])
        try:
            print(f"{conversations} conversations one at a time ...", flush=True)
            replies = await reply_run(http, url, standin, deliveries, conversations)
            await accept_run(http, url, deliveries, WARM_UP, min(levels))
            accepts = []
            for concurrency in levels:
                print(f"{requests} webhooks, {concurrency} in flight ...", flush=True)
                rate, latencies = await accept_run(http, url, deliveries, requests, concurrency)
                accepts.append((concurrency, requests, rate, latencies))
            last_post = time.perf_counter()
            print(f"waiting for the agent's replies to {len(deliveries.posted)} customers ...",
                  flush=True)
            answered, drained = await drain(standin, deliveries, last_post, drain_within)
            await asyncio.sleep(1)  # the stand-in's status webhooks for the last replies
        finally:
            await remove(db, deliveries)
            await db.close()
    print_tables(replies, accepts, len(deliveries.posted), answered, drained)
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
