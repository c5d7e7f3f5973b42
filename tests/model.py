"""The tests' one sentence-embedding model: loading it takes ~0.3 s and ~100 MB, so the tests
of a session share it, as the processes they start each open their own (runtime/core/wiring)."""

from __future__ import annotations

import functools

from simptu.runtime.core.embeddings import Embedder


@functools.cache
def session_embedder() -> Embedder:
    return Embedder()
