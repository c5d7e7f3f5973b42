"""Who is on a socket: the token a client gives when it connects (`params.token` in the URL,
or `Sec-WebSocket-Protocol: phoenix, base64url.bearer.phx.<token>` as newer phoenix.js sends
it), verified once per socket as a guest, an access-code customer or a user of a tenant's
realm (whose issuer names the tenant)."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs, urlsplit

from simptu.runtime.core import guest_tokens
from simptu.runtime.core.chat.access import Principal
from simptu.runtime.core.customer_tokens import verify_platform_token
from simptu.runtime.core.oidc import InvalidToken, OidcVerifier, unverified_issuer
from simptu.runtime.core.registry import TenantRegistry, UnknownTenant

PROTOCOL = "phoenix"
BEARER_PREFIX = "base64url.bearer.phx."


class Participant(Principal):
    """A verified socket user of one tenant."""

    @property
    def role(self) -> str:
        """The one word presence shows for this participant."""
        if self.guest_session is not None:
            return "guest"
        for role in ("tenant-admin", "staff", "platform-admin", "customer"):
            if role in self.roles:
                return role
        return "customer" if self.customer_access is not None else "none"


def token_of(path: str, subprotocols: list[str]) -> str | None:
    """The token of a handshake: the `token` query parameter, else the bearer subprotocol."""
    query = parse_qs(urlsplit(path).query)
    if query.get("token"):
        return query["token"][0]
    for offered in subprotocols:
        if offered.startswith(BEARER_PREFIX):
            encoded = offered.removeprefix(BEARER_PREFIX)
            try:  # phoenix.js uses btoa without padding; accept the url-safe alphabet too
                return base64.b64decode(encoded.replace("-", "+").replace("_", "/")
                                        + "=" * (-len(encoded) % 4), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
    return None


class Authenticator:
    """Verifies socket tokens: platform-signed ones with the shared secret, realm ones with the
    tenant's keys."""

    def __init__(self, registry: TenantRegistry, oidc: OidcVerifier, guest_secret: str) -> None:
        self.registry = registry
        self.oidc = oidc
        self.guest_secret = guest_secret

    async def authenticate(self, token: str | None) -> Participant:
        """The token's participant; `InvalidToken` with the reason otherwise."""
        if not token:
            raise InvalidToken("the socket was opened without a token")
        issuer = unverified_issuer(token)
        if issuer == guest_tokens.ISSUER:
            return self._platform_participant(token)
        try:
            tenant = await self.registry.by_issuer(issuer)
        except UnknownTenant:
            raise InvalidToken(f"no tenant signs in with issuer {issuer}") from None
        claims = await self.oidc.verify(token, issuer)
        return Participant(tenant.slug, claims.subject, claims.roles)

    def _platform_participant(self, token: str) -> Participant:
        return Participant.of_platform_token(verify_platform_token(self.guest_secret, token))
