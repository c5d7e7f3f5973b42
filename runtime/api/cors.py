"""CORS per tenant: a browser may call the API from the web origins the tenant allows (its
`spec.channels.web.allowedOrigins`, carried by the registry) and from no other."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from simptu.runtime.api.middleware import HttpMiddleware
from simptu.runtime.api.platform import ApiPlatform
from simptu.runtime.api.problems import problem_response
from simptu.runtime.api.routing import TENANT_HEADER, host_tenant
from simptu.runtime.core.registry import UnknownTenant
from simptu.runtime.core.tenancy import InvalidSlug

ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Simptu-Tenant, traceparent"
EXPOSE_HEADERS = "Retry-After, X-Trace-Id"


async def tenant_allows(platform: ApiPlatform, slug: str | None, origin: str) -> bool:
    if slug is None:
        return False
    try:
        record = await platform.registry.get(slug)
    except (UnknownTenant, InvalidSlug):
        return False
    return record.status == "Ready" and origin in record.web_origins


class TenantCors(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        platform: ApiPlatform = scope["app"].state.platform
        by_host = host_tenant(headers.get("host"), platform.settings.api_base_domain)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(scope, receive, send, platform, by_host, origin)
            return
        allowed = await tenant_allows(platform, by_host or headers.get(TENANT_HEADER), origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"vary", b"Origin")]
                if allowed:
                    extra += [(b"access-control-allow-origin", origin.encode()),
                              (b"access-control-expose-headers", EXPOSE_HEADERS.encode())]
                message.setdefault("headers", []).extend(extra)
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, scope: Scope, receive: Receive, send: Send,
                         platform: ApiPlatform, by_host: str | None, origin: str) -> None:
        # A preflight does not carry X-Simptu-Tenant, so without a tenant host it cannot be
        # judged; it is let through and the actual request is judged (the guest endpoint
        # refuses a disallowed origin, and nothing else works without a bearer token).
        if by_host is not None and not await tenant_allows(platform, by_host, origin):
            response = problem_response(403, f"origin {origin} is not allowed by this tenant",
                                        kind="origin-not-allowed", instance=scope["path"])
            await response(scope, receive, send)
            return
        allow = {"access-control-allow-origin": origin, "access-control-allow-methods":
                 ALLOW_METHODS, "access-control-allow-headers": ALLOW_HEADERS,
                 "access-control-max-age": "600", "vary": "Origin"}
        await send({"type": "http.response.start", "status": 204,
                    "headers": [(k.encode(), v.encode()) for k, v in allow.items()]})
        await send({"type": "http.response.body", "body": b""})
