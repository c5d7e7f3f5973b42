"""The agent worker's Prometheus metrics."""

from prometheus_client import Counter, Histogram

TURNS = Counter("simptu_agent_turns_total", "Turns run, by business type and outcome",
                ["business_type", "outcome"])
FIRST_DELTA = Histogram(
    "simptu_agent_first_delta_seconds",
    "From an inbound event taken up to its reply's first piece published",
    buckets=(0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5))
TURN_SECONDS = Histogram("simptu_agent_turn_seconds", "Whole turns, reply stored included",
                         buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
