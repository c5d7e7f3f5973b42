"""/healthz, /readyz and /metrics of a worker process (the agent, the channel senders)."""

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


def health_app(is_ready: Callable[[], bool]) -> Starlette:
    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        ready = is_ready()
        return JSONResponse({"status": "ready" if ready else "starting"},
                            status_code=200 if ready else 503)

    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/healthz", healthz), Route("/readyz", readyz),
                             Route("/metrics", metrics)])


def health_server(is_ready: Callable[[], bool], host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(health_app(is_ready), host=host, port=port, log_config=None,
                            access_log=False, lifespan="off")
    return uvicorn.Server(config)


async def serve_until_stopped(is_ready: Callable[[], bool], host: str, port: int,
                              stop: Callable[[], None], work: Callable[[], Awaitable[None]]
                              ) -> None:
    """Run `work()` with the health server beside it; SIGTERM and SIGINT call `stop`, which
    must make `work` return."""
    server = health_server(is_ready, host, port)
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
