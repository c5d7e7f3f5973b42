"""Fixtures for the knowledge base: the process's MiniLM embedder, and a tenant of this test's
own whose knowledge base holds the clinic FAQ of `faq.py`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.embeddings import Embedder
from simptu.runtime.core.knowledge import KnowledgeEntrySpec, KnowledgeHit, Locale, save_entry
from simptu.runtime.core.knowledge import search_entries as search_in
from simptu.runtime.core.tenancy import TenantNames
from tests.model import session_embedder

from .faq import CLINIC_FAQ

MakeTenant = Callable[..., Awaitable[TenantNames]]
Search = Callable[..., Awaitable[list[KnowledgeHit]]]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return session_embedder()


async def write_faq(db: asyncpg.Pool, embedder: Embedder, tenant: TenantNames,
                    entries: list[KnowledgeEntrySpec]) -> None:
    async with TenantUnitOfWork(db, tenant) as conn:
        for entry in entries:
            await save_entry(conn, embedder, entry)


@pytest.fixture
async def clinic(db: asyncpg.Pool, embedder: Embedder, make_tenant: MakeTenant) -> TenantNames:
    tenant = await make_tenant("clinic")
    await write_faq(db, embedder, tenant, CLINIC_FAQ)
    return tenant


@pytest.fixture
def search(db: asyncpg.Pool, embedder: Embedder) -> Search:
    """`await search(tenant, "query", "ro")`: the tenant's hits, in its unit of work."""

    async def run(tenant: TenantNames, query: str, locale: Locale | None = None,
                  limit: int = 3) -> list[KnowledgeHit]:
        async with TenantUnitOfWork(db, tenant) as conn:
            return await search_in(conn, embedder, query, locale, limit)

    return run


def questions(hits: list[KnowledgeHit]) -> list[str]:
    return [hit.question for hit in hits]
