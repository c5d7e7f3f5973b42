"""The API's Prometheus metrics (served at `/metrics` with every other metric of the process)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter("simptu_api_requests_total", "HTTP requests answered",
                   ["method", "route", "status"])
LATENCY = Histogram("simptu_api_request_seconds", "Time to answer an HTTP request",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
GUEST_TOKENS = Counter("simptu_api_guest_tokens_total", "Guest tokens issued, or refused and why",
                       ["outcome"])
HOT_READS = Counter("simptu_api_hot_reads_total",
                    "Reads of the catalogue and knowledge base, answered by the Redis cache "
                    "(hit) or by the database (miss)", ["collection", "outcome"])
