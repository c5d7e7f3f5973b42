"""Postgres access per tenant: a pool, and a unit of work that runs one transaction as the tenant.

Inside a `TenantUnitOfWork` the connection's role is the tenant's own (`SET LOCAL ROLE`) and its
search path is the tenant's schema, so a query can reach nothing outside that schema. Both are
transaction-local: nothing is left on the connection afterwards, which is what makes the pool
safe behind a transaction-mode pooler.
"""

from __future__ import annotations

from types import TracebackType

import asyncpg

from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames


async def create_pool(settings: CoreSettings) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        settings.database_url.get_secret_value(),
        min_size=settings.database_pool_min, max_size=settings.database_pool_max,
        statement_cache_size=settings.database_statement_cache_size,
        command_timeout=30,
    )
    assert pool is not None
    return pool


def quote_ident(name: str) -> str:
    """An SQL identifier, double-quoted (names here are validated, this is defence in depth)."""
    return '"' + name.replace('"', '""') + '"'


class TenantUnitOfWork:
    """`async with TenantUnitOfWork(pool, names) as conn:` one transaction as the tenant.

    Commits when the block ends normally, rolls back when it raises.
    """

    def __init__(self, pool: asyncpg.Pool, tenant: TenantNames) -> None:
        self.pool = pool
        self.tenant = tenant
        self._conn: asyncpg.Connection | None = None
        self._tx: asyncpg.transaction.Transaction | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        conn = await self.pool.acquire()
        try:
            tx = conn.transaction()
            await tx.start()
            await conn.execute(f"SET LOCAL ROLE {quote_ident(self.tenant.role)}")
            await conn.execute(f"SET LOCAL search_path TO {quote_ident(self.tenant.schema)}")
        except BaseException:
            await self.pool.release(conn)
            raise
        self._conn, self._tx = conn, tx
        return conn

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._conn is None or self._tx is None:
            raise RuntimeError("TenantUnitOfWork exited without being entered")
        try:
            if exc_type is None:
                await self._tx.commit()
            else:
                await self._tx.rollback()
        finally:
            await self.pool.release(self._conn)
            self._conn = self._tx = None
