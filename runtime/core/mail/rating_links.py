"""The proof in a rating request's link: the booking's id and the link's end sealed with the
tenant's data key for that booking (AES-GCM: only the platform can make one, and one for a
booking opens for no other). The customer rates from the link without signing in; nothing is
stored for it."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid

from simptu.runtime.core.crypto import CryptoError, TenantCipher

RATING_LINKS = "rating_links"  # the sealing address (no table holds them)
VALID = dt.timedelta(days=30)


async def rating_proof(cipher: TenantCipher, booking_id: uuid.UUID, now: dt.datetime) -> str:
    until = (now + VALID).isoformat()
    sealed = await cipher.seal(RATING_LINKS, "booking", booking_id, until)
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


async def proof_holds(cipher: TenantCipher, booking_id: uuid.UUID, proof: str,
                      now: dt.datetime) -> bool | None:
    """True for a proof made for this booking and still valid, False for one that has
    expired, None for anything else (made up, altered, another booking's)."""
    try:
        sealed = base64.urlsafe_b64decode(proof + "=" * (-len(proof) % 4))
        until = dt.datetime.fromisoformat(
            await cipher.open_text(RATING_LINKS, "booking", booking_id, sealed))
    except (CryptoError, binascii.Error, ValueError):
        return None
    return now < until
