"""The hub's Prometheus metrics (served at `/metrics` with every other metric of the process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONNECTIONS = Gauge("simptu_ws_connections", "Sockets open on this replica")
JOINS = Counter("simptu_ws_joins_total", "Channel joins, by topic kind and result",
                ["kind", "result"])
MESSAGES = Counter("simptu_ws_messages_total", "Client messages, by event and result",
                   ["event", "result"])
PUSHES = Counter("simptu_ws_pushes_total", "Frames pushed to sockets, by event", ["event"])
RESUME_REPLAYS = Counter("simptu_ws_resume_replays_total",
                         "Events replayed to reconnecting clients")
MALFORMED = Counter("simptu_ws_malformed_frames_total", "Frames that could not be read")
DELIVERY = Histogram("simptu_ws_delivery_seconds",
                     "From an outbound event's time to its push on this replica",
                     buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
