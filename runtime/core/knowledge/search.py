"""Answers to a customer's question from the tenant's knowledge base: Postgres full-text search
finds the candidates (each entry in its language's configuration, `romanian` or `english`), the
stored MiniLM embeddings re-rank them; when no candidate is good enough, embedding similarity
over all the tenant's entries still finds a paraphrase that shares no word with its answer."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from simptu.runtime.core.embeddings import Embedder, Vector, cosine
from simptu.runtime.core.knowledge.models import KnowledgeHit
from simptu.runtime.core.knowledge.store import EMBEDDING_MODEL
from simptu.runtime.core.language import Locale

# A hit's score: mostly how close its meaning is (the cosine of the embeddings), partly how
# many of the query's words it contains. MiniLM is English-centric: for a Romanian question the
# words carry what the cosine misses.
SEMANTIC_WEIGHT = 0.7
LEXICAL_WEIGHT = 0.3
# Below this a hit is more likely wrong than right, and no answer is better than a wrong one.
# A paraphrase with no shared word needs a cosine of MIN_SCORE / SEMANTIC_WEIGHT (0.43):
# English paraphrases of the tests' FAQ score 0.45-0.56, unrelated questions below 0.37.
MIN_SCORE = 0.3
# Without a shared word, a Romanian entry needs a cosine of 0.55: MiniLM puts unrelated
# Romanian sentences at 0.40-0.50 from each other, Romanian paraphrases at 0.53-0.70.
MIN_SCORE_BY_MEANING_ALONE: dict[str, float] = {"en": MIN_SCORE, "ro": 0.385}
# Full-text candidates re-ranked per search: a tenant's FAQ is small, a query's words few.
CANDIDATES = 20

# Postgres's `romanian` configuration has no stop words ("de", "cu", "să" would match every
# entry): these are left out of a Romanian query, stemmed as the query is.
ROMANIAN_STOP_WORDS = (
    "a acea aceasta această acel acela acest acesta aceste acestea acei ai al ale am ar are "
    "aș au avea aveți avem care ce cea cel cele cei cu cum da dacă dar de deci din după e ea "
    "ei el este eu fi fie fost i în îmi își între la le li lor lui mă mai mi mie ne nici noi "
    "nu o ori pe pentru pot poate prin să se și sunt ta te tu un una unei unor unui va vă voi "
    "vreau vrem")

# The query's lexemes in each language, as written and without diacritics (as the entries are
# indexed, see migration 0008), and the entries that contain any of them, with the share of
# the query's lexemes each contains. Words are OR-ed, not AND-ed as websearch_to_tsquery
# would: a customer's question rarely uses every word of the answer.
FULL_TEXT_CANDIDATES = """
    WITH query AS (
        SELECT c.locale, lexemes,
               (SELECT string_agg(quote_literal(l), ' | ') FROM unnest(lexemes) l)::tsquery
                   AS any_word
        FROM (VALUES ('ro', 'romanian'::regconfig, $4::text),
                     ('en', 'english'::regconfig, ''))
             AS c (locale, config, stop_words),
             LATERAL (SELECT array_agg(DISTINCT l) AS lexemes FROM unnest(tsvector_to_array(
                          to_tsvector(c.config, $1)
                          || to_tsvector(c.config, translate($1, 'ăâîșşțţĂÂÎȘŞȚŢ',
                                                                 'aaissttAAISSTT')))) l
                      WHERE l <> ALL(tsvector_to_array(
                          to_tsvector(c.config, c.stop_words)
                          || to_tsvector(c.config, translate(c.stop_words, 'ăâîșşțţ',
                                                                           'aaisstt')))))
             AS words
        WHERE $2::text IS NULL OR c.locale = $2
    )
    SELECT e.id, e.locale, e.question, e.answer, e.embedding, e.embedding_model,
           (SELECT count(*) FROM unnest(q.lexemes) l
            WHERE e.search_vector @@ quote_literal(l)::tsquery)::float8
               / cardinality(q.lexemes) AS coverage
    FROM query q JOIN knowledge_entries e ON e.locale = q.locale
    WHERE q.lexemes IS NOT NULL AND e.search_vector @@ q.any_word
    ORDER BY coverage DESC, ts_rank_cd(e.search_vector, q.any_word) DESC, e.id
    LIMIT $3"""

EVERY_ENTRY = """
    SELECT id, locale, question, answer, embedding, embedding_model, 0.0::float8 AS coverage
    FROM knowledge_entries WHERE $1::text IS NULL OR locale = $1"""


def blended_score(similarity: float, coverage: float) -> float:
    """A hit's score from its cosine to the query and the share of the query's words it has."""
    return round(SEMANTIC_WEIGHT * similarity + LEXICAL_WEIGHT * coverage, 4)


def similarity(query_vector: Vector, row: Mapping[str, Any]) -> float:
    """The cosine of the query and an entry; 0 for an entry another model embedded (until
    `embed_stale_entries` runs), which only its words can find."""
    if row["embedding_model"] != EMBEDDING_MODEL:
        return 0.0
    return cosine(query_vector, row["embedding"])


def best_hits(rows: Sequence[Mapping[str, Any]], query_vector: Vector, limit: int,
              min_score: Mapping[str, float] | None = None) -> list[KnowledgeHit]:
    """The rows scoring at least their locale's `min_score` (MIN_SCORE by default), best
    first, at most `limit`."""
    hits = [KnowledgeHit(entry_id=row["id"], locale=row["locale"], question=row["question"],
                         answer=row["answer"],
                         score=blended_score(similarity(query_vector, row), row["coverage"]))
            for row in rows]
    good = [hit for hit in hits if hit.score >= (min_score or {}).get(hit.locale, MIN_SCORE)]
    return sorted(good, key=lambda hit: (-hit.score, hit.entry_id))[:limit]


async def search_entries(conn: asyncpg.Connection, embedder: Embedder, query: str,
                         locale: Locale | None, limit: int = 3) -> list[KnowledgeHit]:
    """The tenant's entries that answer `query`, best first (at most `limit`, maybe none);
    only entries in `locale` if given, else each entry is matched in its own language.
    `conn` is in the tenant's unit of work."""
    # Postgres text cannot hold NUL: a customer's stray NUL only separates words.
    query = query.replace("\x00", " ").strip()
    if not query or limit < 1:
        return []
    # The query's embedding is computed in the embedder's thread while Postgres searches.
    embedding = asyncio.ensure_future(embedder.embed([query]))
    try:
        candidates = await conn.fetch(FULL_TEXT_CANDIDATES, query, locale, CANDIDATES,
                                      ROMANIAN_STOP_WORDS)
    except BaseException:
        embedding.cancel()
        raise
    [query_vector] = await embedding
    hits = best_hits(candidates, query_vector, limit)
    if hits:
        return hits
    # A tenant's FAQ is small (500 entries cost a few ms, see bench/bench_knowledge.py).
    return best_hits(await conn.fetch(EVERY_ENTRY, locale), query_vector, limit,
                     MIN_SCORE_BY_MEANING_ALONE)
