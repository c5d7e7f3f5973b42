"""Guest tokens: short-lived tokens the platform signs (HMAC-SHA256) for an anonymous website
visitor, bound to one tenant and one chat session. The API issues them; the WS hub checks them
before a join of `chat:<session_id>`."""

from __future__ import annotations

import datetime as dt
import uuid

import jwt
from pydantic import BaseModel

from simptu.runtime.core.oidc import InvalidToken
from simptu.runtime.core.settings import MIN_SECRET_BYTES
from simptu.runtime.core.tenancy import InvalidSlug, check_slug

ISSUER = "simptu-platform"
AUDIENCE = "simptu-chat"
ALGORITHM = "HS256"


class GuestClaims(BaseModel):
    tenant: str
    session_id: uuid.UUID
    expires_at: dt.datetime

    @property
    def topic(self) -> str:
        """The one channel topic this token may join."""
        return f"chat:{self.session_id}"

    def may_join(self, tenant: str, topic: str) -> bool:
        return tenant == self.tenant and topic == self.topic


def _checked_secret(secret: str) -> bytes:
    key = secret.encode()
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"the guest token secret needs at least {MIN_SECRET_BYTES} bytes")
    return key


def sign_platform_token(secret: str, audience: str, subject: str, claims: dict[str, object],
                        expires_at: dt.datetime) -> str:
    """A token the platform signs for `audience` (guest chats, customer access codes)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    payload = {"iss": ISSUER, "aud": audience, "sub": subject, **claims,
               "iat": now, "nbf": now, "exp": expires_at, "jti": uuid.uuid4().hex}
    return jwt.encode(payload, _checked_secret(secret), algorithm=ALGORITHM)


def decode_platform_token(secret: str, token: str, audience: str) -> dict[str, object]:
    """The claims of a platform-signed, unexpired token for `audience`; `InvalidToken` else."""
    try:
        payload: dict[str, object] = jwt.decode(
            token, _checked_secret(secret), algorithms=[ALGORITHM], audience=audience,
            issuer=ISSUER, options={"require": ["exp", "iat", "sub", "aud", "iss"]})
    except jwt.PyJWTError as error:
        raise InvalidToken(f"platform token refused: {error}") from None
    return payload


def issue_guest_token(secret: str, tenant: str, session_id: uuid.UUID,
                      ttl: dt.timedelta) -> tuple[str, GuestClaims]:
    """A signed token for `session_id` of `tenant`, valid for `ttl` from now."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    claims = GuestClaims(tenant=check_slug(tenant), session_id=session_id, expires_at=now + ttl)
    token = sign_platform_token(secret, AUDIENCE, f"guest:{session_id}",
                                {"tenant": tenant, "sid": str(session_id),
                                 "scope": claims.topic}, claims.expires_at)
    return token, claims


def verify_guest_token(secret: str, token: str) -> GuestClaims:
    """The claims of a guest token the platform signed and that has not expired;
    `InvalidToken` otherwise."""
    payload = decode_platform_token(secret, token, AUDIENCE)
    try:
        claims = GuestClaims(tenant=check_slug(str(payload["tenant"])),
                             session_id=uuid.UUID(str(payload["sid"])),
                             expires_at=dt.datetime.fromtimestamp(int(str(payload["exp"])), dt.UTC))
    except (KeyError, ValueError, InvalidSlug) as error:
        raise InvalidToken(f"guest token refused: {error}") from None
    if payload.get("scope") != claims.topic or payload.get("sub") != f"guest:{claims.session_id}":
        raise InvalidToken("guest token refused: its scope does not match its session")
    return claims
