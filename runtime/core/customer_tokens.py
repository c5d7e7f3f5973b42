"""Customer access tokens: short-lived, platform-signed tokens a customer without an account gets
for a redeemed access code, bound to one tenant and one customer, that only read that
customer's bookings and conversations. Signed like guest tokens, for another audience."""

from __future__ import annotations

import datetime as dt
import uuid

import jwt
from pydantic import BaseModel

from simptu.runtime.core.guest_tokens import (
    AUDIENCE as GUEST_AUDIENCE,
)
from simptu.runtime.core.guest_tokens import (
    GuestClaims,
    decode_platform_token,
    sign_platform_token,
    verify_guest_token,
)
from simptu.runtime.core.oidc import InvalidToken
from simptu.runtime.core.tenancy import InvalidSlug, check_slug

AUDIENCE = "simptu-customer-access"


class CustomerClaims(BaseModel):
    tenant: str
    customer_id: uuid.UUID
    expires_at: dt.datetime


def issue_customer_token(secret: str, tenant: str, customer_id: uuid.UUID,
                         ttl: dt.timedelta) -> tuple[str, CustomerClaims]:
    """A signed token for `customer_id` of `tenant`, valid for `ttl` from now."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    claims = CustomerClaims(tenant=check_slug(tenant), customer_id=customer_id,
                            expires_at=now + ttl)
    token = sign_platform_token(secret, AUDIENCE, f"customer:{customer_id}",
                                {"tenant": tenant, "cid": str(customer_id)}, claims.expires_at)
    return token, claims


def verify_customer_token(secret: str, token: str) -> CustomerClaims:
    """The claims of an unexpired customer token the platform signed; `InvalidToken` else."""
    payload = decode_platform_token(secret, token, AUDIENCE)
    try:
        claims = CustomerClaims(tenant=check_slug(str(payload["tenant"])),
                                customer_id=uuid.UUID(str(payload["cid"])),
                                expires_at=dt.datetime.fromtimestamp(int(str(payload["exp"])),
                                                                     dt.UTC))
    except (KeyError, ValueError, InvalidSlug) as error:
        raise InvalidToken(f"customer token refused: {error}") from None
    if payload.get("sub") != f"customer:{claims.customer_id}":
        raise InvalidToken("customer token refused: its subject does not match its customer")
    return claims


def verify_platform_token(secret: str, token: str) -> GuestClaims | CustomerClaims:
    """A guest or a customer token, told apart by its audience (checked again when verified)."""
    try:
        audience = jwt.decode(token, options={"verify_signature": False}).get("aud")
    except jwt.PyJWTError as error:
        raise InvalidToken(f"platform token refused: {error}") from None
    if audience == AUDIENCE:
        return verify_customer_token(secret, token)
    if audience == GUEST_AUDIENCE:
        return verify_guest_token(secret, token)
    raise InvalidToken(f"platform token refused: unknown audience {audience!r}")
