"""Search answers a customer's question from their tenant's FAQ: Romanian through the `romanian`
full-text configuration (with or without diacritics), English through `english`, paraphrases
through the stored embeddings, and never from another tenant's entries."""

from __future__ import annotations

import asyncpg

from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.embeddings import Embedder
from simptu.runtime.core.knowledge import KnowledgeEntrySpec
from simptu.runtime.core.knowledge.search import FULL_TEXT_CANDIDATES, ROMANIAN_STOP_WORDS
from simptu.runtime.core.tenancy import TenantNames

from .conftest import MakeTenant, Search, questions, write_faq


async def test_a_romanian_question_typed_without_diacritics_finds_its_answer(
    clinic: TenantNames, search: Search,
) -> None:
    hits = await search(clinic, "cat costa detartrarea", "ro")
    assert questions(hits)[:1] == ["Cât costă o detartrare?"]
    assert "250 de lei" in hits[0].answer


async def test_a_romanian_question_finds_an_answer_sharing_only_a_stem(
    clinic: TenantNames, search: Search,
) -> None:
    assert questions(await search(clinic, "Unde pot parca mașina?", "ro"))[:1] == [
        "Aveți parcare?"]


async def test_romanian_function_words_alone_match_nothing(
    db: asyncpg.Pool, clinic: TenantNames, search: Search,
) -> None:
    """"de", "cu", "să" are in most entries; the `romanian` configuration keeps them."""
    async with TenantUnitOfWork(db, clinic) as conn:
        assert await conn.fetch(FULL_TEXT_CANDIDATES, "de cu să la pe", "ro", 20,
                                ROMANIAN_STOP_WORDS) == []
    assert await search(clinic, "de cu să la pe", "ro") == []


async def test_an_english_question_finds_its_english_answer(
    clinic: TenantNames, search: Search,
) -> None:
    hits = await search(clinic, "how much is teeth cleaning", "en")
    assert questions(hits)[:1] == ["How much does a cleaning cost?"]
    assert hits[0].locale == "en"


async def test_a_paraphrase_sharing_no_word_is_found_through_the_embeddings(
    db: asyncpg.Pool, clinic: TenantNames, search: Search,
) -> None:
    paraphrase = "Where can I leave my car?"
    async with TenantUnitOfWork(db, clinic) as conn:
        assert await conn.fetch(FULL_TEXT_CANDIDATES, paraphrase, "en", 20,
                                ROMANIAN_STOP_WORDS) == []
    assert questions(await search(clinic, paraphrase, "en"))[:1] == ["Is there parking?"]


async def test_a_question_the_faq_does_not_answer_finds_nothing(
    clinic: TenantNames, search: Search,
) -> None:
    assert await search(clinic, "quantum chromodynamics lecture notes") == []


async def test_hits_are_best_first_and_at_most_the_limit(
    clinic: TenantNames, search: Search,
) -> None:
    hits = await search(clinic, "parking price cancel opening hours", "en", limit=2)
    assert len(hits) == 2
    assert hits[0].score >= hits[1].score


async def test_a_locale_keeps_hits_to_entries_in_that_language(
    clinic: TenantNames, search: Search,
) -> None:
    assert {hit.locale for hit in await search(clinic, "parcare parking", "ro")} == {"ro"}
    assert {hit.locale for hit in await search(clinic, "parcare parking", "en")} == {"en"}


async def test_without_a_locale_each_entry_is_matched_in_its_own_language(
    clinic: TenantNames, search: Search,
) -> None:
    hits = await search(clinic, "parcare gratuită parking")
    assert set(questions(hits)[:2]) == {"Aveți parcare?", "Is there parking?"}


async def test_an_empty_query_finds_nothing(clinic: TenantNames, search: Search) -> None:
    assert await search(clinic, "   ", "ro") == []


async def test_a_nul_in_a_customer_s_question_only_separates_words(
    clinic: TenantNames, search: Search,
) -> None:
    """Postgres text cannot hold NUL; a customer's message can, and the agent searches with it."""
    hits = await search(clinic, "how much is\x00teeth cleaning", "en")
    assert questions(hits)[:1] == ["How much does a cleaning cost?"]
    assert await search(clinic, "\x00", "en") == []


async def test_another_tenant_s_entries_are_never_returned(
    db: asyncpg.Pool, embedder: Embedder, clinic: TenantNames, make_tenant: MakeTenant,
    search: Search,
) -> None:
    gym = await make_tenant("gym", business_type="gym")
    await write_faq(db, embedder, gym, [KnowledgeEntrySpec(
        locale="en", question="Is there parking?", answer="Park in the mall, two hours free.")])
    gym_hits = await search(gym, "parking", "en")
    assert [hit.answer for hit in gym_hits] == ["Park in the mall, two hours free."]
    assert await search(gym, "cat costa detartrarea") == []
    assert "Park in the mall" not in " ".join(h.answer for h in await search(clinic, "parking"))
