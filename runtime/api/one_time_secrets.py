"""The secrets of invitations and access codes: made from the system's CSPRNG, shown once, and
stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

ACCESS_CODE_DIGITS = 8


def new_invitation_token() -> str:
    """256 random bits, URL-safe: a plain SHA-256 of it cannot be guessed back."""
    return secrets.token_urlsafe(32)


def invitation_token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_access_code() -> str:
    """Eight digits a customer can read out or type; short, hence hashed with the tenant's
    index key (see runtime/core/access_codes) and limited in attempts."""
    return f"{secrets.randbelow(10 ** ACCESS_CODE_DIGITS):0{ACCESS_CODE_DIGITS}d}"
