"""The in-memory key cache is bounded (least recently used goes first) and expiring."""

from __future__ import annotations

import pytest

from simptu.runtime.core.crypto.key_cache import ExpiringLRU


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_least_recently_used_entry_is_evicted_first() -> None:
    cache: ExpiringLRU[str, int] = ExpiringLRU(max_entries=2, ttl=60)
    cache.put("clinic", 1)
    cache.put("gym", 2)
    assert cache.get("clinic") == 1  # now the gym is the least recently used
    cache.put("hotel", 3)
    assert (cache.get("clinic"), cache.get("gym"), cache.get("hotel")) == (1, None, 3)
    assert len(cache) == 2


def test_an_entry_expires_ttl_seconds_after_it_was_stored_however_often_it_is_read() -> None:
    clock = Clock()
    cache: ExpiringLRU[str, int] = ExpiringLRU(max_entries=10, ttl=300, clock=clock)
    cache.put("clinic", 1)
    clock.now = 299.9
    assert cache.get("clinic") == 1
    clock.now = 300.0
    assert cache.get("clinic") is None
    assert len(cache) == 0


def test_discard_and_clear_forget_entries() -> None:
    cache: ExpiringLRU[str, int] = ExpiringLRU(max_entries=10, ttl=60)
    cache.put("clinic", 1)
    cache.put("gym", 2)
    cache.discard("clinic")
    cache.discard("never-stored")
    assert (cache.get("clinic"), cache.get("gym")) == (None, 2)
    cache.clear()
    assert len(cache) == 0


@pytest.mark.parametrize(("size", "ttl"), [(0, 60), (10, 0)])
def test_a_cache_needs_room_and_a_lifetime(size: int, ttl: float) -> None:
    with pytest.raises(ValueError, match="max_entries"):
        ExpiringLRU(size, ttl)
