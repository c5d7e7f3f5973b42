"""The channels' Prometheus metrics: webhook outcomes (an unrouted one is an alert: a customer
wrote and no tenant got it) and sends by outcome."""

from __future__ import annotations

from prometheus_client import Counter

WEBHOOKS = Counter("simptu_channel_webhooks_total",
                   "Provider webhook deliveries by channel family and outcome",
                   ["provider", "outcome"])
UNROUTED = Counter("simptu_channel_unrouted_total",
                   "Messages or statuses for a business account no Ready tenant owns (alert)",
                   ["channel"])
SENDS = Counter("simptu_channel_sends_total", "Parts of replies sent to providers, by outcome",
                ["channel", "outcome"])
MAILS = Counter("simptu_channel_mails_total",
                "Mails read from the tenants' mailboxes, by what became of them", ["outcome"])
