"""Channel identifiers as the registry keeps them: a blind index under a platform key, so a
webhook finds its tenant by equality while no phone number or page id is stored in clear.

The platform key never leaves OpenBao: its HMAC of a fixed label, asked once per process, is
the key of the local HMACs (a webhook costs no OpenBao call)."""

from __future__ import annotations

import asyncio
import hmac

from simptu.runtime.core.crypto.blind_index import normalise_email, normalise_exact, normalise_phone
from simptu.runtime.core.crypto.transit import KeyStore

REGISTRY_KEY = "simptu-registry"
LABEL = b"simptu.registry-index.v1"

# The kinds of identifier the registry holds, one namespace each.
META_KINDS = ("whatsapp", "messenger", "instagram")
# Meta's verify token of a tenant's own app: its GET verification finds the tenant by it.
META_VERIFY = "meta-verify"
# A tenant's Twilio numbers (SMS and voice) and its Messaging Service.
TWILIO_NUMBER = "twilio-number"
TWILIO_SERVICE = "twilio-service"
PHONE_KINDS = (TWILIO_NUMBER,)
# A tenant's e-mail addresses (channels.email): two tenants never read one mailbox.
EMAIL_ADDRESS = "email-address"
# A tenant's Booking.com property (channels.bookingCom): two tenants never take one
# property's reservations.
BOOKING_COM_PROPERTY = "booking-com-property"


def normalise(kind: str, identifier: str) -> str:
    if kind == EMAIL_ADDRESS:
        return normalise_email(identifier)
    return normalise_phone(identifier) if kind in PHONE_KINDS else normalise_exact(identifier)


class RegistryIndex:
    """Blind indexes of channel identifiers, equal in every process of the platform."""

    def __init__(self, keystore: KeyStore, *, creates_key: bool = False) -> None:
        """`creates_key`: the operator, the registry's writer, creates the platform key
        before its first index; readers find it."""
        self.keystore = keystore
        self.creates_key = creates_key
        self._key: bytes | None = None
        self._lock = asyncio.Lock()

    async def _hmac_key(self) -> bytes:
        if self._key is None:
            async with self._lock:
                if self._key is None:
                    if self.creates_key:
                        await self.keystore.ensure_key(REGISTRY_KEY)
                    self._key = await self.keystore.hmac(REGISTRY_KEY, LABEL)
        return self._key

    async def of(self, kind: str, identifier: str) -> bytes:
        """The index of `identifier` (a page id, a phone number…) on channel `kind`."""
        value = normalise(kind, identifier)
        if not value:
            raise ValueError(f"{kind}: {identifier!r} is not an identifier")
        message = kind.encode() + b"\x00" + value.encode()
        return hmac.digest(await self._hmac_key(), message, "sha256")
