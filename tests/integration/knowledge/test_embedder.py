"""The embedder computes a text once while it is recent: a customer's message is embedded to
classify it and again for each FAQ search of the same turn."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from simptu.runtime.core.embeddings import RECENT_TEXTS, Embedder, Vector, cosine
from tests.model import session_embedder


class CountingEmbedder(Embedder):
    """The shared model, counting the texts it is asked to compute."""

    def __init__(self) -> None:
        super().__init__()
        self.computed: list[str] = []

    def embed_now(self, texts: Sequence[str]) -> list[Vector]:
        self.computed += texts
        return session_embedder().embed_now(texts)


@pytest.fixture
def counting() -> CountingEmbedder:
    return CountingEmbedder()


async def test_a_recent_text_is_not_computed_again(counting: CountingEmbedder) -> None:
    [first] = await counting.embed(["Cât costă o detartrare?"])
    again, other = await counting.embed(["Cât costă o detartrare?", "Aveți parcare?"])

    assert again == first
    assert cosine(other, first) < 0.99
    assert counting.computed == ["Cât costă o detartrare?", "Aveți parcare?"]


async def test_only_the_latest_texts_are_kept(counting: CountingEmbedder) -> None:
    await counting.embed([f"question {n}" for n in range(RECENT_TEXTS + 1)])
    await counting.embed(["question 0", f"question {RECENT_TEXTS}"])

    assert counting.computed.count("question 0") == 2  # the oldest was let go
    assert counting.computed.count(f"question {RECENT_TEXTS}") == 1
