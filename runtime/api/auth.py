"""Who is calling: a user of the tenant's realm (a verified OpenID Connect access token with its
roles), a website guest (a platform-signed guest token for one chat session), or a customer
without an account (a platform-signed token for a redeemed access code, read-only)."""

from __future__ import annotations

import uuid

from simptu.runtime.api.platform import ApiPlatform
from simptu.runtime.api.problems import ApiProblem
from simptu.runtime.api.routing import Route
from simptu.runtime.core import guest_tokens
from simptu.runtime.core.chat.access import STAFF_ROLES as STAFF_ROLES
from simptu.runtime.core.chat.access import Principal
from simptu.runtime.core.customer_tokens import verify_platform_token
from simptu.runtime.core.oidc import InvalidToken, OidcUnavailable

CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
BOOKING_ROLES = ("platform-admin", "tenant-admin", "staff", "customer")
ADMIN_ROLES = ("platform-admin", "tenant-admin")


# A request's verified caller.
Caller = Principal


async def authenticate(route: Route, platform: ApiPlatform) -> Caller:
    """The verified caller of a routed request; 401 without a valid token."""
    if route.token is None:
        raise ApiProblem(401, "unauthenticated", "this endpoint needs a bearer token",
                         headers={"WWW-Authenticate": "Bearer"})
    if route.issuer == guest_tokens.ISSUER:
        return _platform_caller(route, platform)
    issuer = route.tenant.auth_issuer
    if issuer is None:
        raise ApiProblem(503, "tenant-without-realm",
                         f"tenant {route.tenant.slug!r} has no sign-in realm yet",
                         headers={"Retry-After": str(platform.settings.api_retry_after)})
    try:
        claims = await platform.oidc.verify(route.token, issuer)
    except InvalidToken as error:
        raise ApiProblem(401, "invalid-token", str(error), headers=CHALLENGE) from None
    except OidcUnavailable as error:
        raise ApiProblem(503, "issuer-unavailable", str(error),
                         headers={"Retry-After": "5"}) from None
    return Caller(route.tenant.slug, claims.subject, claims.roles)


def _platform_caller(route: Route, platform: ApiPlatform) -> Caller:
    try:
        claims = verify_platform_token(
            platform.settings.guest_token_secret.get_secret_value(), route.token or "")
    except InvalidToken as error:
        raise ApiProblem(401, "invalid-token", str(error), headers=CHALLENGE) from None
    if claims.tenant != route.tenant.slug:
        raise ApiProblem(403, "tenant-mismatch",
                         f"the token is for another tenant than {route.tenant.slug!r}")
    return Caller.of_platform_token(claims)


def require_role(caller: Caller, *roles: str) -> Caller:
    if not caller.has_any(*roles):
        raise ApiProblem(403, "forbidden", f"this needs one of the roles {', '.join(roles)}")
    return caller


def own_customer_id(caller: Caller) -> uuid.UUID | None:
    """The customer a caller is, or None for staff and admins (who see every customer): a realm
    user with the `customer` role is the customer whose id is their token's subject."""
    if caller.is_staff:
        return None
    try:
        return uuid.UUID(caller.subject)
    except ValueError:
        raise ApiProblem(403, "forbidden", "this token's subject is not a customer") from None
