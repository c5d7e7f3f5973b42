"""The dependencies endpoints declare (`Depends`): the platform, the routed tenant, the
verified caller and the unit of work, so an endpoint's body reads like its business rule."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from simptu.runtime.api.auth import Caller, authenticate, require_role
from simptu.runtime.api.platform import ApiPlatform
from simptu.runtime.api.problems import ApiProblem
from simptu.runtime.api.routing import Route, route_request
from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord


def platform_of(request: Request) -> ApiPlatform:
    platform: ApiPlatform = request.app.state.platform
    return platform


# Every dependency is `async def`: FastAPI runs a plain `def` one in a worker thread, which
# costs more than the dependency itself. The ones below take the platform from the request,
# not from this dependency: FastAPI solves a dependency's own dependencies again at every
# place it is used (only the call itself is cached), and the platform was asked for ten times
# per request.
async def get_platform(request: Request) -> ApiPlatform:
    return platform_of(request)


PlatformDep = Annotated[ApiPlatform, Depends(get_platform)]


# Documents the bearer token in the OpenAPI schema; the token itself is read by the router,
# which also tells a malformed header from a missing one.
BEARER = HTTPBearer(auto_error=False, description="an access token of the tenant's realm, or "
                    "a guest token from POST /v1/chat/guest")


async def get_route(request: Request,
                    _: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> Route:
    return await route_request(request, platform_of(request))


RouteDep = Annotated[Route, Depends(get_route)]


async def get_tenant(route: RouteDep) -> TenantRecord:
    return route.tenant


TenantDep = Annotated[TenantRecord, Depends(get_tenant)]


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_caller(request: Request, route: RouteDep) -> Caller:
    caller = await authenticate(route, platform_of(request))
    # An access code is shown to whoever holds the customer's phone for a minute: its token
    # only reads, so it cannot book, cancel or speak for the customer.
    if caller.customer_access is not None and request.method not in READ_METHODS:
        raise ApiProblem(403, "read-only-token",
                         "an access-code token only reads bookings and conversations")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def role(*roles: str) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency admitting only callers with one of `roles`."""
    async def check(caller: CallerDep) -> Caller:
        return require_role(caller, *roles)
    return check


async def unit_of_work(request: Request, tenant: TenantDep) -> AsyncIterator[asyncpg.Connection]:
    async with TenantUnitOfWork(platform_of(request).pool, tenant.names) as conn:
        yield conn


# scope="function": the transaction commits before the response is sent, so a client never
# sees success for a change that then fails to commit.
UnitOfWork = Annotated[asyncpg.Connection, Depends(unit_of_work, scope="function")]


async def cipher_of(request: Request, tenant: TenantDep, conn: UnitOfWork) -> TenantCipher:
    return platform_of(request).keyring.cipher(tenant.names, conn)


# Seals, opens and indexes the tenant's fields inside the request's unit of work.
CipherDep = Annotated[TenantCipher, Depends(cipher_of)]
