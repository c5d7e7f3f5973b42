"""HTTP API benchmark against the running local stack; prints a markdown table.

    .venv/bin/python bench/bench_api.py [--requests N] [--concurrency C]

Opens a chat session of the demo tenant zambet-dental-cluj with 50 sealed messages (through
the API, as its staff user), then measures requests/s and p99 of the session history endpoint
through the whole application (tenant routing, token check, unit of work, 50 fields opened)
and of a bare FastAPI endpoint served the same way (in process, over ASGI, same client and
concurrency), and prints their ratio (goal: history at least 0.3 of bare). The session, its
messages and their outbox rows are removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
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
        | {"bao_addr": stack["BAO_ADDR"], "bao_token": stack["BAO_TOKEN"],
           "api_guest_token_secret": secrets.token_urlsafe(40)})
    app = create_app(settings)
    headers = {"X-Simptu-Tenant": TENANT.slug,
               "Authorization": f"Bearer {await staff_token(stack)}"}
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api", headers=headers,
            timeout=60) as api, httpx.AsyncClient(
            transport=httpx.ASGITransport(app=bare_app()), base_url="http://bare") as bare:
        session = (await api.post("/v1/chat/sessions", json={"channel": "web"})).json()["id"]
        try:
            print(f"session {session}: writing {MESSAGES} sealed messages ...", flush=True)
            for n in range(MESSAGES):
                (await api.post(f"/v1/chat/sessions/{session}/messages",
                                json={"text": f"Message {n}: " + "o programare joi " * 8})
                 ).raise_for_status()
            history = f"/v1/chat/sessions/{session}/messages?limit={MESSAGES}"
            assert len((await api.get(history)).json()["items"]) == MESSAGES
            print(f"measuring {requests} requests, {concurrency} at a time ...", flush=True)
            await measure(lambda: bare.get("/bare"), requests // 10, concurrency)  # warm-up
            bare_rps, bare_p99 = await measure(lambda: bare.get("/bare"), requests, concurrency)
            await measure(lambda: api.get(history), requests // 10, concurrency)
            rps, p99 = await measure(lambda: api.get(history), requests, concurrency)
        finally:
            await remove_session(app, uuid.UUID(session))
    print("| endpoint | requests/s | p99 ms | ratio to bare |\n| --- | --- | --- | --- |")
    print(f"| bare FastAPI endpoint | {bare_rps:.0f} | {bare_p99:.1f} | 1.00 |")
    print(f"| session history ({MESSAGES} sealed messages) | {rps:.0f} | {p99:.1f} | "
          f"{rps / bare_rps:.2f} (goal ≥ 0.30) |")


async def remove_session(app: FastAPI, session: uuid.UUID) -> None:
    async with TenantUnitOfWork(app.state.platform.pool, TENANT) as conn:
        await conn.execute("DELETE FROM outbox WHERE key = $1", str(session).encode())
        await conn.execute("DELETE FROM chat_sessions WHERE id = $1", session)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2_000, help="requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency))
