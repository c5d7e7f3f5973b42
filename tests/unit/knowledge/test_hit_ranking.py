"""How search ranks and keeps hits: meaning weighs more than shared words, a hit below the
minimum score is dropped, a Romanian entry found by meaning alone needs more."""

from __future__ import annotations

import uuid
from typing import Any

from simptu.runtime.core.knowledge.search import (
    MIN_SCORE,
    MIN_SCORE_BY_MEANING_ALONE,
    best_hits,
    blended_score,
)
from simptu.runtime.core.knowledge.store import EMBEDDING_MODEL

QUERY = [1.0, 0.0]


def row(question: str, similarity: float, coverage: float = 0.0,
        locale: str = "en") -> dict[str, Any]:
    """A candidate whose embedding has `similarity` to QUERY (both normalised, 2-d)."""
    return {"id": uuid.uuid4(), "locale": locale, "question": question, "answer": "…",
            "embedding": [similarity, (1 - similarity**2) ** 0.5], "coverage": coverage,
            "embedding_model": EMBEDDING_MODEL}


def test_a_close_meaning_outranks_shared_words() -> None:
    assert blended_score(0.9, 0.0) > blended_score(0.3, 1.0)


def test_the_score_of_a_perfect_match_is_one() -> None:
    assert blended_score(1.0, 1.0) == 1.0


def test_hits_are_best_first_and_cut_to_the_limit() -> None:
    rows = [row("weak", 0.5), row("best", 0.9, 1.0), row("good", 0.8)]
    assert [hit.question for hit in best_hits(rows, QUERY, 2)] == ["best", "good"]


def test_a_hit_below_the_minimum_score_is_dropped() -> None:
    below = (MIN_SCORE - 0.01) / 0.7
    assert best_hits([row("unrelated", below)], QUERY, 3) == []


def test_a_romanian_entry_found_by_meaning_alone_needs_a_higher_score() -> None:
    rows = [row("ro", 0.5, locale="ro"), row("en", 0.5, locale="en")]
    kept = best_hits(rows, QUERY, 3, MIN_SCORE_BY_MEANING_ALONE)
    assert [hit.question for hit in kept] == ["en"]


def test_an_entry_another_model_embedded_counts_by_its_words_only() -> None:
    stale = row("stale", 0.99, coverage=1.0) | {"embedding": [1.0], "embedding_model": "old"}
    [hit] = best_hits([stale], QUERY, 3)
    assert hit.score == blended_score(0.0, 1.0)
