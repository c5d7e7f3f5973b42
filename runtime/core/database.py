"""Postgres access per tenant: a pool, and a unit of work that runs one transaction as the tenant.

Inside a `TenantUnitOfWork` the connection's role is the tenant's own (`SET LOCAL ROLE`) and its
search path is the tenant's schema, so a query can reach nothing outside that schema. Both are
transaction-local: nothing is left on the connection afterwards, which is what makes the pool
safe behind a transaction-mode pooler.

Work that must follow a commit (forgetting cached pages the transaction made old) is registered
with `after_commit(conn, work)` by the code that caused it, and runs once the unit of work has
committed; a unit of work that rolls back drops it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg
import structlog

from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames

AfterCommit = Callable[[], Awaitable[None]]
log = structlog.get_logger(__name__)
# The work each open unit of work runs once it has committed, by its connection.
_after_commit: dict[asyncpg.Connection, list[AfterCommit]] = {}


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """A released connection carries no state to undo: an open transaction is rolled back by
    the pool itself, and everything here is transaction-local (`SET LOCAL`, `pg_advisory_xact_*`),
    as behind a transaction-mode pooler. Skipping asyncpg's default reset (RESET ALL, UNLISTEN *,
    CLOSE ALL, pg_advisory_unlock_all) saves a round trip on every unit of work."""


async def create_pool(settings: CoreSettings) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        settings.database_url.get_secret_value(),
        min_size=settings.database_pool_min, max_size=settings.database_pool_max,
        statement_cache_size=settings.database_statement_cache_size,
        command_timeout=30, reset=_nothing_to_reset,
    )
    assert pool is not None
    return pool


def quote_ident(name: str) -> str:
    """An SQL identifier, double-quoted (names here are validated, this is defence in depth)."""
    return '"' + name.replace('"', '""') + '"'


async def act_as_tenant(conn: asyncpg.Connection, tenant: TenantNames) -> None:
    """Inside a transaction: the tenant's role and schema until it ends (nothing outlives it)."""
    # One round trip: both statements in one simple-protocol message.
    await conn.execute(f"SET LOCAL ROLE {quote_ident(tenant.role)}; "
                       f"SET LOCAL search_path TO {quote_ident(tenant.schema)}")


@asynccontextmanager
async def tenant_transaction(conn: asyncpg.Connection,
                             tenant: TenantNames) -> AsyncIterator[asyncpg.Connection]:
    """A transaction on `conn` as the tenant (its role, its schema).

    Inside a transaction already (a `TenantUnitOfWork`), the caller must be acting as this
    tenant: a savepoint is used, and nothing is set that would outlive it.
    """
    if conn.is_in_transaction():
        acting_as = await conn.fetchval("SELECT current_user")
        if acting_as != tenant.role:
            raise PermissionError(f"this transaction acts as {acting_as!r}, not as tenant "
                                  f"{tenant.slug!r}; use a TenantUnitOfWork of that tenant")
        async with conn.transaction():
            yield conn
        return
    async with conn.transaction():
        await act_as_tenant(conn, tenant)
        yield conn


@asynccontextmanager
async def TenantUnitOfWork(
    pool: asyncpg.Pool, tenant: TenantNames,
) -> AsyncIterator[asyncpg.Connection]:
    """`async with TenantUnitOfWork(pool, names) as conn:` one transaction as the tenant.

    Commits when the block ends normally, then runs what `after_commit` registered; rolls back
    when it raises.
    """
    async with pool.acquire() as conn:
        pending = _after_commit[conn] = []
        try:
            async with tenant_transaction(conn, tenant):
                yield conn
        finally:
            del _after_commit[conn]
        for work in pending:
            await _run_after_commit(work)


def after_commit(conn: asyncpg.Connection, work: AfterCommit) -> None:
    """Run `work` once the unit of work of `conn` has committed (never if it rolls back)."""
    try:
        _after_commit[conn].append(work)
    except KeyError:
        raise RuntimeError("after_commit needs a connection of a TenantUnitOfWork") from None


async def _run_after_commit(work: AfterCommit) -> None:
    try:
        await work()
    except Exception:  # committed all the same: the work's own fallback (a TTL) covers it
        log.exception("work after a commit failed")
