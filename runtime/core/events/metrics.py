"""The event bus's Prometheus metrics, in one place so dashboards find every name here."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS_PUBLISHED = Counter(
    "simptu_events_published_total", "Events sent to Kafka, by outcome (acked, failed, timeout)",
    ["outcome"])
EVENTS_CONSUMED = Counter(
    "simptu_events_consumed_total",
    "Events received, by outcome (handled, duplicate, failed, rejected)", ["outcome"])
OUTBOX_RELAYED = Counter(
    "simptu_outbox_relayed_total", "Outbox rows published and removed by the relay")
OUTBOX_RELAY_ERRORS = Counter(
    "simptu_outbox_relay_errors_total", "Relay batches that failed and will be retried")
OUTBOX_LAG = Histogram(
    "simptu_outbox_lag_seconds", "From an outbox row's insertion to Kafka's acknowledgement",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
