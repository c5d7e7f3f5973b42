"""HTTP API benchmark against the running local stack; prints a markdown table.

    .venv/bin/python bench/bench_api.py [--requests N] [--concurrency C]

Opens a chat session of the demo tenant zambet-dental-cluj with 50 sealed messages (through
the API, as its staff user), then measures requests/s and p99 of the session history endpoint
through the whole application (tenant routing, token check, rate limit, the page from the
sealed history cache), and again with that cache turned off (a unit of work, 50 fields opened),
of a week's availability of its Consultation service (every dentist), and of booking
consultations (each request a different free slot, for a customer of the benchmark's own), and
of a bare FastAPI endpoint served the same way (in process, over ASGI, same client, headers and
concurrency, on the uvloop event loop the server runs on), and prints their ratios (goal:
history at least 0.3 of bare). The session, its messages, the bookings, their outbox rows and
the customer are removed afterwards. The demo catalogue must be seeded (`make up` does it).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import secrets
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
import uvloop
from fastapi import FastAPI

from simptu.devstack.demo_tokens import demo_token
from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.runtime.api.app import create_app
from simptu.runtime.api.logs import configure_logging
from simptu.runtime.api.settings import ApiSettings
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

TENANT = TenantNames("zambet-dental-cluj")
MESSAGES = 50
# A documentation address of its own: the limiter's counts are shared through Redis, and the
# benchmark's must not use up those of real clients on 127.0.0.1.
BENCH_CLIENT = ("192.0.2.201", 40000)


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/bare")
    async def bare() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def measure(call: Callable[[], Awaitable[httpx.Response]], requests: int,
                  concurrency: int) -> tuple[float, float]:
    """(requests per second, p99 latency in ms) of `requests` calls, `concurrency` at a time."""
    latencies: list[float] = []
    slots = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with slots:
            started = time.perf_counter()
            answer = await call()
            latencies.append(time.perf_counter() - started)
            answer.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(requests)))
    elapsed = time.perf_counter() - started
    return requests / elapsed, statistics.quantiles(latencies, n=100)[98] * 1000


async def staff_token(stack: StackEnv) -> str:
    async with httpx.AsyncClient(timeout=30) as http:
        issuer = f"{stack['SIMPTU_KEYCLOAK_URL']}/realms/{TENANT.slug}"
        return str((await demo_token(http, issuer, "staff"))["access_token"])


async def main(requests: int, concurrency: int) -> None:
    stack = StackEnv.load(DevstackSettings().env_file)
    configure_logging("WARNING")  # as in production: JSON lines, here only the problems
    settings = ApiSettings.model_validate(
        {key.removeprefix("SIMPTU_").lower(): value for key, value in stack.values.items()}
        | {"bao_addr": stack["BAO_ADDR"], "bao_auth": "token", "bao_token": stack["BAO_TOKEN"],
           "guest_token_secret": secrets.token_urlsafe(40),
           # The limiter still counts every request; it must not refuse the benchmark's.
           "api_rate_limit": 1_000_000_000})
    app = create_app(settings)
    uncached = create_app(settings.model_copy(update={"api_history_cache": False}))
    headers = {"X-Simptu-Tenant": TENANT.slug,
               "Authorization": f"Bearer {await staff_token(stack)}"}
    async with app.router.lifespan_context(app), uncached.router.lifespan_context(uncached), \
            client(app, headers) as api, client(uncached, headers) as api_uncached, \
            client(bare_app(), headers) as bare:
        print(f"measuring {requests} requests, {concurrency} at a time ...", flush=True)
        # Absolute URLs parsed once: httpx parses a relative one on every request, and a
        # longer one costs the client more.
        bare_url = bare.base_url.join("/bare")
        rows = [("bare FastAPI endpoint", *await warm_and_measure(
            lambda: bare.get(bare_url), requests, concurrency))]
        rows += await history_rows(app, api, api_uncached, requests, concurrency)
        rows += await booking_rows(app, api, requests, concurrency)
    print("| endpoint | requests/s | p99 ms | ratio to bare |\n| --- | --- | --- | --- |")
    for name, rps, p99 in rows:
        goal = " (goal ≥ 0.30)" if name == f"session history ({MESSAGES} sealed messages)" \
            else ""
        print(f"| {name} | {rps:.0f} | {p99:.1f} | {rps / rows[0][1]:.2f}{goal} |")


async def warm_and_measure(call: Callable[[], Awaitable[httpx.Response]], requests: int,
                           concurrency: int) -> tuple[float, float]:
    await measure(call, requests // 10, concurrency)
    return await measure(call, requests, concurrency)


def client(app: FastAPI, headers: dict[str, str]) -> httpx.AsyncClient:
    """The same client, with the same headers, for every endpoint measured."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=BENCH_CLIENT),
                             base_url="http://api", headers=headers, timeout=60)


async def history_rows(app: FastAPI, api: httpx.AsyncClient, api_uncached: httpx.AsyncClient,
                       requests: int, concurrency: int) -> list[tuple[str, float, float]]:
    session = (await api.post("/v1/chat/sessions", json={"channel": "web"})).json()["id"]
    try:
        print(f"session {session}: writing {MESSAGES} sealed messages ...", flush=True)
        for n in range(MESSAGES):
            (await api.post(f"/v1/chat/sessions/{session}/messages",
                            json={"text": f"Message {n}: " + "o programare joi " * 8})
             ).raise_for_status()
        history = api.base_url.join(f"/v1/chat/sessions/{session}/messages?limit={MESSAGES}")
        assert len((await api.get(history)).json()["items"]) == MESSAGES
        return [(f"session history ({MESSAGES} sealed messages)",
                 *await warm_and_measure(lambda: api.get(history), requests, concurrency)),
                (f"session history ({MESSAGES} sealed messages), cache off",
                 *await warm_and_measure(lambda: api_uncached.get(history), requests // 2,
                                         concurrency))]
    finally:
        await remove_session(app, uuid.UUID(session))


async def booking_rows(app: FastAPI, api: httpx.AsyncClient, requests: int,
                       concurrency: int) -> list[tuple[str, float, float]]:
    services = {s["name"]: s["id"] for s in (await api.get("/v1/services")).json()["items"]}
    consultation = services["Consultation"]
    first = dt.date.today() + dt.timedelta(days=1)
    week = {"service_id": consultation, "from": first.isoformat(),
            "to": (first + dt.timedelta(days=6)).isoformat()}
    rows = [("availability query (a week, every dentist)", *await warm_and_measure(
        lambda: api.get("/v1/availability", params=week), requests // 4, concurrency))]
    customer = uuid.uuid4()
    async with TenantUnitOfWork(app.state.platform.pool, TENANT) as conn:
        await conn.execute("INSERT INTO customers (id) VALUES ($1)", customer)
    try:
        free = await free_starts(api, consultation, first)
        # Every request books a slot of its own; the warm-up takes a tenth more.
        creates = min(requests // 4, int(len(free) / 1.1))
        print(f"booking {creates} consultations ...", flush=True)
        slots = iter(free)

        def book() -> Awaitable[httpx.Response]:
            resource_id, start = next(slots)
            return api.post("/v1/bookings", json={
                "service_id": consultation, "resource_id": resource_id, "start": start,
                "customer_id": str(customer)})

        rows.append(("booking create", *await warm_and_measure(book, creates, concurrency)))
    finally:
        await remove_customer(app, customer)
    return rows


async def free_starts(api: httpx.AsyncClient, service_id: str,
                      first: dt.date) -> list[tuple[str, str]]:
    """(resource, start) of free slots over two months that do not overlap one another: a
    consultation takes 30 minutes, so starts on the hour and half hour."""
    answer = await api.get("/v1/availability", params={
        "service_id": service_id, "from": first.isoformat(),
        "to": (first + dt.timedelta(days=61)).isoformat()})
    answer.raise_for_status()
    return [(slot["resource_id"], slot["start"]) for slot in answer.json()["items"]
            if dt.datetime.fromisoformat(slot["start"]).minute in (0, 30)]


async def remove_customer(app: FastAPI, customer: uuid.UUID) -> None:
    """The benchmark's customer, their bookings and the bookings' outbox rows."""
    async with TenantUnitOfWork(app.state.platform.pool, TENANT) as conn:
        booked = await conn.fetch("DELETE FROM bookings WHERE customer_id = $1 RETURNING id",
                                  customer)
        await conn.execute("DELETE FROM outbox WHERE key = ANY($1::bytea[])",
                           [str(row["id"]).encode() for row in booked])
        await conn.execute("DELETE FROM customers WHERE id = $1", customer)


async def remove_session(app: FastAPI, session: uuid.UUID) -> None:
    async with TenantUnitOfWork(app.state.platform.pool, TENANT) as conn:
        await conn.execute("DELETE FROM outbox WHERE key = $1", str(session).encode())
        await conn.execute("DELETE FROM chat_sessions WHERE id = $1", session)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2_000, help="requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    args = parser.parse_args()
    uvloop.run(main(args.requests, args.concurrency))
