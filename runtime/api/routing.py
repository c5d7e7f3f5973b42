"""Which tenant a request is for: the host (`<slug>.<base domain>`), the `X-Simptu-Tenant`
header, or the issuer of its bearer token. When they disagree the answer is 403, an unknown
tenant is 404 and a tenant that is not Ready is 503 with `Retry-After`."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from starlette.requests import HTTPConnection

from simptu.runtime.api.platform import ApiPlatform
from simptu.runtime.api.problems import ApiProblem
from simptu.runtime.core import guest_tokens
from simptu.runtime.core.customer_tokens import verify_platform_token
from simptu.runtime.core.oidc import InvalidToken
from simptu.runtime.core.rate_limit import Limiter
from simptu.runtime.core.registry import TenantRecord, UnknownTenant
from simptu.runtime.core.tenancy import InvalidSlug, check_slug

TENANT_HEADER = "x-simptu-tenant"


@dataclass(frozen=True)
class Route:
    tenant: TenantRecord
    token: str | None  # the bearer token as sent; verified by the caller dependency
    issuer: str | None


def host_tenant(host: str | None, base_domain: str) -> str | None:
    """The slug of `<slug>.<base domain>[:port]`, or None for any other host."""
    name = (host or "").rsplit(":", 1)[0].lower().rstrip(".")
    suffix = "." + base_domain.lower()
    if not name.endswith(suffix):
        return None
    label = name.removesuffix(suffix)
    return label if label and "." not in label else None


def claimed_tenant(request: HTTPConnection, base_domain: str) -> str | None:
    """The tenant the host or the header names (403 if they name two)."""
    by_host = host_tenant(request.headers.get("host"), base_domain)
    by_header = request.headers.get(TENANT_HEADER)
    if by_host and by_header and by_host != by_header:
        raise ApiProblem(403, "tenant-mismatch",
                         f"the host names tenant {by_host!r} but X-Simptu-Tenant names "
                         f"{by_header!r}")
    return by_host or by_header


def bearer_token(request: HTTPConnection) -> str | None:
    value = request.headers.get("authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(401, "invalid-token", "Authorization must be `Bearer <token>`",
                         headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


async def lookup(platform: ApiPlatform, slug: str) -> TenantRecord:
    """A tenant that is Ready to serve, or the problem saying why not."""
    try:
        record = await platform.registry.get(check_slug(slug))
    except (UnknownTenant, InvalidSlug):
        raise ApiProblem(404, "unknown-tenant", f"there is no tenant {slug!r}") from None
    admit(platform, record)
    return record


def admit(platform: ApiPlatform, record: TenantRecord) -> None:
    """Serve a Ready tenant (its slug goes into every log line of the request), 503 others."""
    structlog.contextvars.bind_contextvars(tenant=record.slug)
    if record.status != "Ready":
        raise ApiProblem(503, "tenant-not-ready",
                         f"tenant {record.slug!r} is {record.status}, not Ready; try again later",
                         headers={"Retry-After": str(platform.settings.api_retry_after)})


def client_address(request: HTTPConnection) -> str:
    return request.client.host if request.client else "unknown"


async def within_limit(limiter: Limiter, tenant: TenantRecord, client: str,
                       what: str) -> None:
    """429 with Retry-After once `client` has used up `limiter` for this tenant."""
    decision = await limiter.hit(tenant.names, client)
    if not decision.allowed:
        raise ApiProblem(429, "rate-limited", f"too many {what} from this address; wait",
                         headers={"Retry-After": str(max(1, round(decision.retry_after)))})


async def route_request(request: HTTPConnection, platform: ApiPlatform) -> Route:
    claimed = claimed_tenant(request, platform.settings.api_base_domain)
    token = bearer_token(request)
    try:
        issuer = platform.oidc.claimed_issuer(token) if token else None
    except InvalidToken as error:
        raise ApiProblem(401, "invalid-token", str(error),
                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    if claimed:
        record = await lookup(platform, claimed)
    elif issuer:
        record = await _tenant_of_issuer(platform, issuer, token or "")
    else:
        raise ApiProblem(400, "no-tenant", "name the tenant: by host (<slug>."
                         f"{platform.settings.api_base_domain}), by the X-Simptu-Tenant header, "
                         "or with a bearer token of its realm")
    if issuer and issuer not in (record.auth_issuer, guest_tokens.ISSUER):
        raise ApiProblem(403, "tenant-mismatch",
                         f"the token was issued by another realm than tenant {record.slug!r}'s")
    await within_limit(platform.request_limiter, record, client_address(request), "requests")
    return Route(record, token, issuer)


async def _tenant_of_issuer(platform: ApiPlatform, issuer: str, token: str) -> TenantRecord:
    if issuer == guest_tokens.ISSUER:  # guest and customer tokens name it in a signed claim
        try:
            claims = verify_platform_token(
                platform.settings.guest_token_secret.get_secret_value(), token)
        except InvalidToken as error:
            raise ApiProblem(401, "invalid-token", str(error)) from None
        return await lookup(platform, claims.tenant)
    try:
        record = await platform.registry.by_issuer(issuer)
    except UnknownTenant:
        raise ApiProblem(401, "invalid-token",
                         "the token's issuer is not the realm of any tenant",
                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    admit(platform, record)
    return record
