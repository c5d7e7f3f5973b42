"""A provider's webhook refused: the HTTP status and a stable reason the API answers with."""

from __future__ import annotations


class WebhookRefused(Exception):
    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail
