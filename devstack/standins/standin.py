"""What every SaaS stand-in shares besides its provider's contract: bounded records of what it
was sent, webhooks delivered in the background and retried, the `/_standin/` control endpoints'
plumbing (register items, list records, drop faults, read and change the config, health), and
serving an app in-process on a free port for tests."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

Record = dict[str, Any]


class StandinConfig(BaseModel):
    """Settings every stand-in has; each one's config adds its own."""

    # The newest requests and webhooks kept for its /_standin/ listings.
    max_records: int = 20_000


@dataclass
class StandinState:
    """The housekeeping of a stand-in's state: background deliveries, a record sequence and
    one HTTP client for its webhooks."""

    config: StandinConfig
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    sequence: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    http: httpx.AsyncClient | None = None

    def keep(self, records: list[Record], record: Record) -> None:
        """Append, forgetting the oldest beyond `max_records` (a long-running stack's memory)."""
        records.append(record)
        if len(records) > self.config.max_records:
            del records[:len(records) - self.config.max_records]

    def in_background(self, job: Callable[[], Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(job())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def settled(self) -> None:
        """Wait until every webhook under way is delivered or given up."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*list(self.tasks), return_exceptions=True)
        if self.http is not None:
            await self.http.aclose()

    async def post_retrying(self, url: str, *, attempts: int, backoff: float,
                            client_timeout: float,
                            accepted: Callable[[int], bool], **request: Any,
                            ) -> tuple[list[Record], bool]:
        """POST `request` to `url` until an `accepted` status, at most `attempts` times with
        doubling `backoff`; every attempt (status or error) and whether one was accepted."""
        if self.http is None:
            self.http = httpx.AsyncClient(timeout=client_timeout)
        tried: list[Record] = []
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(backoff * 2 ** (attempt - 1))
            try:
                answer = await self.http.post(url, **request)
                outcome: Record = {"status": answer.status_code}
            except httpx.HTTPError as error:
                outcome = {"error": f"{type(error).__name__}: {error}"}
            tried.append({"at": datetime.now(UTC).isoformat(), **outcome})
            if "status" in outcome and accepted(outcome["status"]):
                return tried, True
        return tried, False


async def poll_records(fetch: Callable[[], Awaitable[list[Record]]], count: int, *,
                       within: float, what: str) -> list[Record]:
    """The first `count` records `fetch` lists, once there; TimeoutError naming what did
    arrive if they are not there within `within` seconds."""
    found: list[Record] = []
    try:
        async with asyncio.timeout(within):
            while len(found := await fetch()) < count:  # noqa: ASYNC110 - polling HTTP
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise TimeoutError(f"{len(found)} of {count} {what} in {within}s: {found}") from None
    return found[:count]


def matches(record: Record, wanted: dict[str, str | None]) -> bool:
    return all(value in (None, record.get(key)) for key, value in wanted.items())


def wanted(request: Request, keys: Sequence[str]) -> dict[str, str | None]:
    return {key: request.query_params.get(key) for key in keys}


async def apply_control(request: Request, model: Any, apply: Callable[[Any], None]) -> Response:
    """Validate one `model` or a list of them from the JSON body and `apply` each."""
    try:
        payload = await request.json()
        items = TypeAdapter(list[model] | model).validate_python(payload)
    except (ValueError, ValidationError) as error:
        return JSONResponse({"error": str(error)}, status_code=422)
    for item in items if isinstance(items, list) else [items]:
        apply(item)
    return JSONResponse({"accepted": len(items) if isinstance(items, list) else 1})


def listing(records: list[Record], name: str, keys: Sequence[str],
            ) -> Callable[[Request], Any]:
    """GET the records, filtered by the query parameters named `keys`."""
    async def endpoint(request: Request) -> Response:
        filters = wanted(request, keys)
        return JSONResponse({name: [r for r in records if matches(r, filters)]})
    return endpoint


def drop_faults(faults: list[Any], keys: Sequence[str]) -> Callable[[Request], Any]:
    """DELETE the queued faults matching the query parameters named `keys`."""
    async def endpoint(request: Request) -> Response:
        filters = wanted(request, keys)
        kept = [fault for fault in faults if not matches(fault.model_dump(), filters)]
        removed, faults[:] = len(faults) - len(kept), kept
        return JSONResponse({"removed": removed})
    return endpoint


def standin_app(state: StandinState, routes: list[BaseRoute],
                health: Callable[[], Record]) -> Starlette:
    """The app of `routes` and the shared `/_standin/healthz` and `/_standin/config`; it
    closes `state` on shutdown."""
    async def config(request: Request) -> Response:
        if request.method == "POST":
            try:
                change = type(state.config).model_validate(await request.json())
            except (ValueError, ValidationError) as error:
                return JSONResponse({"error": str(error)}, status_code=422)
            state.config = state.config.model_copy(
                update=change.model_dump(exclude_unset=True))
        return JSONResponse(state.config.model_dump())

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", **health()})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await state.close()

    return Starlette(lifespan=lifespan, routes=[
        *routes,
        Route("/_standin/healthz", healthz),
        Route("/_standin/config", config, methods=["GET", "POST"]),
    ])


@contextlib.asynccontextmanager
async def serving(app: Starlette, *, host: str = "127.0.0.1",
                  port: int = 0) -> AsyncIterator[str]:
    """`app` served by uvicorn in this event loop (on a free port unless `port` is given);
    yields its base URL. Tests serve their webhook receivers with it too."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # uvicorn offers no event to wait on
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"http://{host}:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        listener.close()


def standin_parser(module: str, description: str, port: int) -> argparse.ArgumentParser:
    """The command line of a stand-in's process (`python -m simptu.devstack.standins.<module>`):
    its host and port; the caller adds its own options."""
    parser = argparse.ArgumentParser(prog=f"python -m simptu.devstack.standins.{module}",
                                     description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    return parser


def run_standin(app: Starlette, host: str, port: int) -> None:
    """Serve a stand-in's `app` until stopped, its own log lines as they are written."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    uvicorn.run(app, host=host, port=port, log_level="warning")
