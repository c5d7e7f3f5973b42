"""ASGI middleware around every request: the trace id and access log with metrics, and the
request body size limit (checked on the declared length and on the bytes actually sent)."""

from __future__ import annotations

import re
import secrets
import time
from abc import ABC, abstractmethod

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simptu.runtime.api.metrics import LATENCY, REQUESTS
from simptu.runtime.api.problems import problem_response

TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
log = structlog.get_logger("simptu.api.access")


def trace_id_of(traceparent: str | None) -> str:
    """The trace id of a W3C `traceparent`, or a new one."""
    match = TRACEPARENT.match(traceparent or "")
    if match and match[1] != "0" * 32:
        return match[1]
    return secrets.token_hex(16)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class HttpMiddleware(ABC):
    """An ASGI middleware for HTTP requests; lifespan and other scopes pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.handle(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    @abstractmethod
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """What the middleware does with one HTTP request (each subclass says)."""


class RequestContext(HttpMiddleware):
    """Binds `trace_id` for the request's logs, answers it in `X-Trace-Id`, and logs and counts
    each request by its route template (not its path, which would explode the metric)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        trace_id = trace_id_of(_header(scope, b"traceparent"))
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(trace_id=trace_id)
        started = time.perf_counter()
        status = 500

        async def send_with_trace(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-trace-id", trace_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - started
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(elapsed)
            log.info("request", method=scope["method"], path=scope["path"], route=route,
                     status=status, ms=round(elapsed * 1000, 1))
            structlog.contextvars.clear_contextvars()


class BodyTooLarge(HTTPException):
    """An HTTP error, so the framework's body parsing lets it through to the problem handler."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body is larger than {max_bytes} bytes")


class BodySizeLimit(HttpMiddleware):
    """Refuses (413) a request body over `max_bytes` before the endpoint acts on it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received, started = 0, False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:  # read outside the router (a middleware): answer here
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413, f"the request body is larger than {self.max_bytes} bytes",
            instance=scope["path"])
        await response(scope, receive, send)
