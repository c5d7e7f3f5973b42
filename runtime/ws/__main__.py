"""`python -m simptu.runtime.ws`: serve the hub on SIMPTU_WS_HOST:SIMPTU_WS_PORT until stopped."""

from __future__ import annotations

import asyncio
import signal

import uvloop

from simptu.runtime.core import entrypoint
from simptu.runtime.ws.hub import Hub
from simptu.runtime.ws.logs import configure_logging
from simptu.runtime.ws.platform import open_platform
from simptu.runtime.ws.server import start
from simptu.runtime.ws.settings import WsSettings


async def serve(settings: WsSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with open_platform(settings) as platform, Hub(platform) as hub:
        server = await start(hub, settings.ws_host, settings.ws_port)
        async with server:
            await stop.wait()


def main(argv: list[str] | None = None) -> None:
    entrypoint.parser(
        "python -m simptu.runtime.ws",
        "The Simptu WebSocket hub (Phoenix channels protocol): customers' and staff's live "
        "conversations; serves on SIMPTU_WS_HOST:SIMPTU_WS_PORT until SIGTERM/SIGINT.",
        WsSettings).parse_args(argv)
    settings = WsSettings()  # type: ignore[call-arg]  # read from the environment
    configure_logging(settings.ws_log_level)
    uvloop.run(serve(settings))


if __name__ == "__main__":
    main()
