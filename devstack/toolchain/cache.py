"""A versioned folder per tool outside the checkout, filled once under a lock."""

from __future__ import annotations

import fcntl
import hashlib
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

COMPLETE_MARKER = ".complete"


def spec_digest(files: list[Path], params: str = "") -> str:
    """A short hash of the files (and flags) that define a tool build: editing them rebuilds it."""
    digest = hashlib.sha256(params.encode())
    for path in sorted(files):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


@contextmanager
def locked(lock_path: Path, busy: str | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path`; print `busy` first if another process has it."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if busy:
                print(busy, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ensure_cached(folder: Path, fill: Callable[[Path], None]) -> Path:
    """Return `folder`, calling `fill(staging)` first if it is not complete yet.

    The tool is filled into a staging folder and renamed into place, so an interrupted
    build leaves nothing that looks finished; a lock keeps parallel runs from building twice.
    """
    if (folder / COMPLETE_MARKER).exists():
        return folder
    with locked(folder.with_name(folder.name + ".lock")):
        if (folder / COMPLETE_MARKER).exists():
            return folder
        staging = folder.with_name(folder.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        fill(staging)
        (staging / COMPLETE_MARKER).touch()
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    return folder
