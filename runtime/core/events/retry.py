"""Bounded exponential backoff, shared by the consumer, the relay and its listener."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delays of `first`, then twice and four times that, …, never more than `longest`."""

    first: float = 0.2
    longest: float = 30.0

    def delay(self, attempt: int) -> float:
        """The wait before retry number `attempt` (1 for the first retry)."""
        return float(min(self.longest, self.first * 2 ** max(0, attempt - 1)))
