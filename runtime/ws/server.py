"""The hub's one port: `/socket/websocket` upgrades to a Phoenix socket (the token is checked
once, at connect); `/healthz`, `/readyz` (Postgres, Redis, Kafka) and `/metrics` answer plain
HTTP on the same port."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from simptu.runtime.core.oidc import InvalidToken, OidcUnavailable
from simptu.runtime.core.readiness import dependency_checks
from simptu.runtime.ws.conversation import Refused
from simptu.runtime.ws.hub import Hub
from simptu.runtime.ws.identity import PROTOCOL, Participant, token_of
from simptu.runtime.ws.metrics import CONNECTIONS
from simptu.runtime.ws.protocol import MalformedFrame, serializer_for
from simptu.runtime.ws.socket import PhoenixSocket

log = logging.getLogger(__name__)
SOCKET_PATH = "/socket/websocket"


def _response(status: int, body: bytes, content_type: str) -> Response:
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))),
                       ("Cache-Control", "no-store")])
    return Response(status, HTTPStatus(status).phrase, headers, body)


def _json(status: int, value: object) -> Response:
    return _response(status, json.dumps(value).encode(), "application/json")


class HubServer:
    """Serves sockets and the health endpoints of one hub replica."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.settings = hub.platform.settings

    async def readiness(self) -> Response:
        platform = self.hub.platform
        # OpenBao too: the hub opens sealed messages for history and resume.
        checks = {**await dependency_checks(platform.pool, platform.redis, platform.producer,
                                            platform.keystore),
                  "outbound-reader": "ok" if self.hub.reading else "stopped"}
        ready = all(result == "ok" for result in checks.values())
        return _json(200 if ready else 503,
                     {"status": "ready" if ready else "not ready", "checks": checks})

    async def process_request(self, connection: ServerConnection,
                              request: Request) -> Response | None:
        url = urlsplit(request.path)
        if url.path == "/healthz":
            return _json(200, {"status": "ok"})
        if url.path == "/readyz":
            return await self.readiness()
        if url.path == "/metrics":
            return _response(200, generate_latest(), CONTENT_TYPE_LATEST)
        if url.path != SOCKET_PATH:
            return _json(404, {"detail": f"no socket at {url.path} (use {SOCKET_PATH})"})
        try:
            serializer_for(parse_qs(url.query).get("vsn", [None])[0])
        except MalformedFrame as error:
            return _json(400, {"detail": str(error)})
        return None

    @staticmethod
    def select_subprotocol(connection: ServerConnection,
                           offered: Sequence[Subprotocol]) -> Subprotocol | None:
        return Subprotocol(PROTOCOL) if PROTOCOL in offered else None

    async def handle(self, connection: ServerConnection) -> None:
        request = connection.request
        assert request is not None  # set once the handshake is done
        serializer = serializer_for(parse_qs(urlsplit(request.path).query).get("vsn",
                                                                               [None])[0])
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol",
                                                          "").split(",")]
        participant = await self._participant(token_of(request.path, offered))
        CONNECTIONS.inc()
        try:
            await PhoenixSocket(self.hub, connection, serializer, participant).serve()
        finally:
            CONNECTIONS.dec()

    async def _participant(self, token: str | None) -> Participant | Refused:
        """The verified participant, or the refusal every join of this socket answers."""
        try:
            return await self.hub.platform.authenticator.authenticate(token)
        except InvalidToken as error:
            return Refused("invalid-token", str(error))
        except OidcUnavailable as error:
            return Refused("issuer-unavailable", str(error))

    async def serve(self, host: str, port: int) -> Server:
        return await serve(self.handle, host, port, process_request=self.process_request,
                     select_subprotocol=self.select_subprotocol,
                     max_size=self.settings.ws_max_frame_bytes,
                     # Phoenix heartbeats are the keepalive; no deflate: its buffers cost
                     # ~100 KiB per socket, and the 50,000 sockets a replica holds need less.
                     ping_interval=None, compression=None, max_queue=4,
                     server_header=None)


async def start(hub: Hub, host: str, port: int) -> Server:
    return await HubServer(hub).serve(host, port)
