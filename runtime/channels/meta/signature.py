"""Meta signs each webhook delivery: `X-Hub-Signature-256: sha256=<hex>` is the HMAC-SHA256
of the raw body bytes under the app secret. The bytes as received, never re-serialised JSON."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(app_secret: str, body: bytes) -> str:
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verifies(app_secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of `body` under `app_secret` (constant time)."""
    if not header or not header.startswith(PREFIX) or not app_secret:
        return False
    return hmac.compare_digest(sign(app_secret, body), header.strip().lower())
