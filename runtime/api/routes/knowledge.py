"""The tenant's knowledge base: FAQ entries the agent answers from, and their search. The FAQ
is public: any caller of the tenant (a guest too) reads and searches it, from the hot-read
cache; staff and admins write it, each entry embedded as it is written."""

from __future__ import annotations

import uuid
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response

from simptu.runtime.api.auth import STAFF_ROLES, Caller
from simptu.runtime.api.dependencies import CallerDep, UnitOfWork, platform_of, role
from simptu.runtime.api.hot_reads import HotReadsDep, KnowledgeWrite
from simptu.runtime.api.knowledge_models import KnowledgeHitList, KnowledgePage
from simptu.runtime.api.pagination import MAX_PAGE, after_time_and_id, time_and_id_cursor
from simptu.runtime.api.problems import problem_responses
from simptu.runtime.core import knowledge
from simptu.runtime.core.embeddings import Embedder
from simptu.runtime.core.knowledge import (
    CACHE_COLLECTION,
    NO_NUL,
    KnowledgeEntry,
    KnowledgeEntryChange,
    KnowledgeEntrySpec,
    Locale,
)

router = APIRouter(prefix="/v1/knowledge", tags=["knowledge"])
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429, 503)
Editor = Annotated[Caller, Depends(role(*STAFF_ROLES))]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]


async def get_embedder(request: Request) -> Embedder:
    """The process's MiniLM model, loaded at its first use (about 5 s)."""
    return platform_of(request).embedder


EmbedderDep = Annotated[Embedder, Depends(get_embedder)]


@router.get("", response_model=KnowledgePage, responses=ERRORS)
async def list_entries(_: CallerDep, reads: HotReadsDep, limit: Limit = 20,
                       cursor: str | None = None, locale: Locale | None = None) -> KnowledgePage:
    """In the order they were written; only `locale`'s if given; `next_cursor` pages on."""
    after = after_time_and_id(cursor)

    async def query(conn: asyncpg.Connection) -> KnowledgePage:
        entries = await knowledge.list_entries(conn, locale=locale, after=after,
                                               limit=limit + 1)
        next_cursor = (time_and_id_cursor(entries[limit - 1].created_at, entries[limit - 1].id)
                       if len(entries) > limit else None)
        return KnowledgePage(items=entries[:limit], next_cursor=next_cursor)

    if after is None:  # the first page is the hot one
        return await reads.get(CACHE_COLLECTION, f"page:{locale or 'all'}:{limit}", KnowledgePage,
                               query)
    return await reads.uncached(query)


@router.get("/search", response_model=KnowledgeHitList, responses=ERRORS)
async def search_entries(_: CallerDep, conn: UnitOfWork, embedder: EmbedderDep,
                         q: Annotated[str, Query(min_length=1, max_length=500, pattern=NO_NUL)],
                         locale: Locale | None = None,
                         limit: Annotated[int, Query(ge=1, le=10)] = 3) -> KnowledgeHitList:
    """The entries that answer `q`, best first: full-text search in each entry's language
    re-ranked by meaning, or by meaning alone when no word matches well."""
    return KnowledgeHitList(items=await knowledge.search_entries(conn, embedder, q, locale,
                                                                 limit))


@router.get("/{entry_id}", response_model=KnowledgeEntry, responses=ERRORS)
async def get_entry(entry_id: uuid.UUID, _: CallerDep, reads: HotReadsDep) -> KnowledgeEntry:
    async def query(conn: asyncpg.Connection) -> KnowledgeEntry:
        return await knowledge.get_entry(conn, entry_id)
    return await reads.get(CACHE_COLLECTION, f"entry:{entry_id}", KnowledgeEntry, query)


@router.post("", status_code=201, response_model=KnowledgeEntry, responses=ERRORS)
async def save_entry(body: KnowledgeEntrySpec, _: Editor, conn: KnowledgeWrite,
                     embedder: EmbedderDep) -> KnowledgeEntry:
    """Add the answer to a question in its language; the same question again updates its
    answer (so a retry is safe)."""
    return await knowledge.save_entry(conn, embedder, body)


@router.patch("/{entry_id}", response_model=KnowledgeEntry, responses=ERRORS)
async def update_entry(entry_id: uuid.UUID, body: KnowledgeEntryChange, _: Editor,
                       conn: KnowledgeWrite, embedder: EmbedderDep) -> KnowledgeEntry:
    """Change the fields sent; the others keep their value."""
    return await knowledge.update_entry(conn, embedder, entry_id, body)


@router.delete("/{entry_id}", status_code=204, response_class=Response, responses=ERRORS)
async def delete_entry(entry_id: uuid.UUID, _: Editor, conn: KnowledgeWrite) -> None:
    await knowledge.delete_entry(conn, entry_id)
