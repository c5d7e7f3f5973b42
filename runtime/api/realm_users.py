"""Users of the tenant's Keycloak realm made by the API: the invitee of an accepted invitation,
created as the realm's own operator account (see ApiSettings), with Keycloak's refusals as
problems."""

from __future__ import annotations

from simptu.runtime.api.invitation_models import InvitationAccept
from simptu.runtime.api.platform import ApiPlatform
from simptu.runtime.api.problems import ApiProblem
from simptu.runtime.core.keycloak_admin import (
    KeycloakError,
    UserExists,
    UserRefused,
    create_user,
)
from simptu.runtime.core.registry import TenantRecord


async def create_invited_user(platform: ApiPlatform, tenant: TenantRecord, email: str,
                              role: str, person: InvitationAccept) -> str:
    """The new user's id; the realm of a tenant is named by its slug."""
    if platform.keycloak is None:
        raise ApiProblem(503, "invitations-unavailable",
                         "this API has no Keycloak realm key (SIMPTU_KEYCLOAK_REALM_SECRET_KEY)",
                         headers={"Retry-After": str(platform.settings.api_retry_after)})
    # Every attribute the realm's user profile requires is set, or the first password login
    # is refused with "Account is not fully set up".
    user = {"username": email, "email": email, "emailVerified": True, "enabled": True,
            "firstName": person.first_name, "lastName": person.last_name,
            "credentials": [{"type": "password", "value": person.password,
                             "temporary": False}]}
    try:
        return await create_user(platform.keycloak, tenant.slug, user, [role])
    except UserExists:
        raise ApiProblem(409, "user-exists",
                         "the tenant's realm has a user with this e-mail already") from None
    except UserRefused as refused:
        raise ApiProblem(422, "user-refused", str(refused)) from None
    except KeycloakError as error:
        raise ApiProblem(503, "realm-unavailable", f"the tenant's realm failed: {error}",
                         headers={"Retry-After": "5"}) from None
