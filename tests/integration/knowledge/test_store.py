"""The knowledge base's store: entries are written with their embedding, written again in
place, changed, deleted and paged; a refused change changes nothing."""

from __future__ import annotations

import asyncpg
import pytest

from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.embeddings import DIMENSIONS, Embedder
from simptu.runtime.core.knowledge import (
    DuplicateQuestion,
    EntryNotFound,
    KnowledgeEntryChange,
    KnowledgeEntrySpec,
    delete_entry,
    get_entry,
    list_entries,
    save_entry,
    update_entry,
)
from simptu.runtime.core.knowledge.store import EMBEDDING_MODEL, embed_stale_entries
from simptu.runtime.core.tenancy import TenantNames

from .conftest import Search, questions
from .faq import CLINIC_FAQ

PARKING = KnowledgeEntrySpec(locale="en", question="Is there parking?",
                             answer="Yes, in the courtyard.")


async def test_an_entry_is_stored_with_the_embedding_of_its_question(
    db: asyncpg.Pool, embedder: Embedder, clinic: TenantNames,
) -> None:
    async with TenantUnitOfWork(db, clinic) as conn:
        saved = await save_entry(conn, embedder, KnowledgeEntrySpec(
            locale="en", question="Do you treat children?", answer="Yes, from age three."))
        row = await conn.fetchrow("SELECT embedding, embedding_model FROM knowledge_entries "
                                  "WHERE id = $1", saved.id)
    [expected] = await embedder.embed(["Do you treat children?"])
    assert row["embedding_model"] == EMBEDDING_MODEL
    assert len(row["embedding"]) == DIMENSIONS
    assert row["embedding"] == pytest.approx(expected, abs=1e-6)


async def test_saving_a_question_again_updates_its_answer_in_place(
    db: asyncpg.Pool, embedder: Embedder, clinic: TenantNames,
) -> None:
    async with TenantUnitOfWork(db, clinic) as conn:
        first = await save_entry(conn, embedder, PARKING)
        again = await save_entry(conn, embedder, PARKING.model_copy(
            update={"answer": "Yes, free for patients."}))
        count = await conn.fetchval("SELECT count(*) FROM knowledge_entries "
                                    "WHERE question = 'Is there parking?'")
    assert again.id == first.id
    assert again.answer == "Yes, free for patients."
    assert count == 1


async def test_changing_the_question_makes_search_find_the_new_one(
    db: asyncpg.Pool, embedder: Embedder, clinic: TenantNames, search: Search,
) -> None:
    async with TenantUnitOfWork(db, clinic) as conn:
        [entry] = [e for e in await list_entries(conn, locale="en")
                   if e.question == "Is there parking?"]
        changed = await update_entry(conn, embedder, entry.id, KnowledgeEntryChange(
            question="Do you accept credit cards?", answer="Visa and Mastercard."))
    assert (changed.locale, changed.answer) == ("en", "Visa and Mastercard.")
    assert changed.updated_at > entry.updated_at
    assert questions(await search(clinic, "can I pay by card", "en"))[:1] == [
        "Do you accept credit cards?"]


async def test_a_change_to_another_entry_s_question_is_refused_and_changes_nothing(
    db: asyncpg.Pool, embedder: Embedder, clinic: TenantNames,
) -> None:
    async with TenantUnitOfWork(db, clinic) as conn:
        by_question = {e.question: e for e in await list_entries(conn, locale="en")}
        parking, hours = by_question["Is there parking?"], by_question[
            "What are your opening hours?"]
        with pytest.raises(DuplicateQuestion, match="another entry already answers"):
            await update_entry(conn, embedder, parking.id,
                               KnowledgeEntryChange(question=hours.question, answer="changed"))
        assert await get_entry(conn, parking.id) == parking


async def test_a_deleted_entry_is_gone(db: asyncpg.Pool, clinic: TenantNames) -> None:
    async with TenantUnitOfWork(db, clinic) as conn:
        [entry, *_] = await list_entries(conn)
        await delete_entry(conn, entry.id)
        with pytest.raises(EntryNotFound):
            await get_entry(conn, entry.id)
        with pytest.raises(EntryNotFound):
            await delete_entry(conn, entry.id)


async def test_entries_are_paged_in_creation_order_after_a_position(
    db: asyncpg.Pool, clinic: TenantNames,
) -> None:
    async with TenantUnitOfWork(db, clinic) as conn:
        first = await list_entries(conn, limit=3)
        rest = await list_entries(conn, after=(first[-1].created_at, first[-1].id), limit=100)
        romanian = await list_entries(conn, locale="ro")
    assert [e.question for e in first + rest] == [e.question for e in CLINIC_FAQ]
    assert [e.question for e in romanian] == [e.question for e in CLINIC_FAQ
                                              if e.locale == "ro"]


async def test_entries_embedded_by_another_model_are_embedded_again(
    db: asyncpg.Pool, embedder: Embedder, clinic: TenantNames,
) -> None:
    async with TenantUnitOfWork(db, clinic) as conn:
        await conn.execute("UPDATE knowledge_entries SET embedding = '{1}', "
                           "embedding_model = 'older-model' WHERE locale = 'ro'")
        assert await embed_stale_entries(conn, embedder) == 4
        models = await conn.fetch("SELECT DISTINCT embedding_model, cardinality(embedding) "
                                  "AS size FROM knowledge_entries")
    assert [tuple(row) for row in models] == [(EMBEDDING_MODEL, DIMENSIONS)]
