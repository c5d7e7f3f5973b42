"""/healthz, /readyz and /metrics of a worker process (the agent, the channel senders).
`/readyz` answers 503 until the worker is consuming, and, given `checks` (its dependencies'
results, runtime/core/readiness.py), 503 naming each failing dependency while any is down."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# The results of a worker's dependency checks, by name ("ok" or why not).
Checks = Callable[[], Awaitable[dict[str, str]]]


def health_app(is_ready: Callable[[], bool], checks: Checks | None = None) -> Starlette:
    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        if not is_ready():
            return JSONResponse({"status": "starting"}, status_code=503)
        results = await checks() if checks is not None else {}
        ready = all(result == "ok" for result in results.values())
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": results},
                            status_code=200 if ready else 503)

    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/healthz", healthz), Route("/readyz", readyz),
                             Route("/metrics", metrics)])


def health_server(is_ready: Callable[[], bool], host: str, port: int,
                  checks: Checks | None = None) -> uvicorn.Server:
    config = uvicorn.Config(health_app(is_ready, checks), host=host, port=port, log_config=None,
                            access_log=False, lifespan="off")
    return uvicorn.Server(config)


async def serve_until_stopped(is_ready: Callable[[], bool], host: str, port: int,
                              stop: Callable[[], None], work: Callable[[], Awaitable[None]],
                              checks: Checks | None = None) -> None:
    """Run `work()` with the health server beside it; SIGTERM and SIGINT call `stop`, which
    must make `work` return."""
    server = health_server(is_ready, host, port, checks)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    health = asyncio.create_task(server.serve())
    try:
        await work()
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await health
