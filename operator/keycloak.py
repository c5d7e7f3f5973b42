"""A tenant's Keycloak realm: its own login, with the platform's roles and clients.

`ensure` creates the realm or brings its settings, roles and clients back to what the Tenant
says; `check` tells whether it exists and is enabled; `remove` deletes it. All through
Keycloak's admin REST API: creating a realm as the master admin, everything else as the realm's
own operator account (see runtime/core/keycloak_admin for why).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from simptu.runtime.core.keycloak_admin import (
    MASTER,
    OPERATOR_CLIENT,
    WEB_CLIENT,
    KeycloakAdmin,
    KeycloakError,
    RealmAccessRefused,
    RealmMissing,
    create_user,
)

__all__ = ["WEB_CLIENT", "KeycloakAdmin", "KeycloakError", "RealmSpec", "check", "ensure", "remove"]

ROLES = ("platform-admin", "tenant-admin", "staff", "customer")
AGENT_CLIENT = "simptu-agent"
API_AUDIENCE = "simptu-api"
# Local stack only, for Tenants labelled simptu.io/demo: a user per role, password "demo", so a
# newcomer or a test gets a token with one curl.
DEMO_USERS = (("admin", "tenant-admin"), ("staff", "staff"), ("customer", "customer"))
DEMO_PASSWORD = "demo"  # noqa: S105 - the documented password of the local demo users


@dataclass(frozen=True)
class RealmSpec:
    """What the Tenant asks of its realm."""

    slug: str
    display_name: str
    allowed_origins: tuple[str, ...] = ()
    registration_allowed: bool = False
    access_token_lifespan: int = 300
    sso_session_idle_timeout: int = 1800
    password_policy: str = "length(12) and notUsername"  # noqa: S105 - a policy, not a secret
    # Only the local stack lets a password be exchanged for a token directly (curl, tests).
    direct_access_grants: bool = False
    demo_users: bool = False


def _realm_settings(spec: RealmSpec) -> dict[str, Any]:
    return {
        "realm": spec.slug, "enabled": True, "displayName": spec.display_name,
        "registrationAllowed": spec.registration_allowed,
        "accessTokenLifespan": spec.access_token_lifespan,
        "ssoSessionIdleTimeout": spec.sso_session_idle_timeout,
        "passwordPolicy": spec.password_policy,
        "loginWithEmailAllowed": True, "duplicateEmailsAllowed": False,
        "bruteForceProtected": True,
    }


# The realm's keys, named so Keycloak does not make its defaults: those add an RSA-OAEP key
# for encrypting tokens, which no Simptu client asks for, and generating a second RSA key is a
# third of what creating a realm costs (200 Tenants at once wait on it). RS256 signs tokens,
# HS512 and AES serve Keycloak's own cookies and action tokens.
KEY_PROVIDERS = {"org.keycloak.keys.KeyProvider": [
    {"name": "rsa-generated", "providerId": "rsa-generated",
     "config": {"priority": ["100"], "keySize": ["2048"], "algorithm": ["RS256"]}},
    {"name": "hmac-generated-hs512", "providerId": "hmac-generated",
     "config": {"priority": ["100"], "algorithm": ["HS512"]}},
    {"name": "aes-generated", "providerId": "aes-generated", "config": {"priority": ["100"]}},
]}


def _clients(spec: RealmSpec) -> list[dict[str, Any]]:
    audience = {"name": "simptu-api-audience", "protocol": "openid-connect",
                "protocolMapper": "oidc-audience-mapper",
                "config": {"included.custom.audience": API_AUDIENCE,
                           "access.token.claim": "true", "id.token.claim": "false"}}
    web = {"clientId": WEB_CLIENT, "name": "Simptu web app", "publicClient": True,
           "standardFlowEnabled": True, "implicitFlowEnabled": False,
           "directAccessGrantsEnabled": spec.direct_access_grants,
           "redirectUris": [f"{origin}/*" for origin in spec.allowed_origins],
           "webOrigins": list(spec.allowed_origins),
           # "+": after logout Keycloak may send the browser back to any redirect URI (the
           # staff inbox, /inbox/<slug> on an allowed origin, lands back on itself).
           "attributes": {"pkce.code.challenge.method": "S256",
                          "post.logout.redirect.uris": "+"},
           "protocolMappers": [audience]}
    agent = {"clientId": AGENT_CLIENT, "name": "Simptu agent", "publicClient": False,
             "serviceAccountsEnabled": True, "standardFlowEnabled": False,
             "directAccessGrantsEnabled": False, "protocolMappers": [audience]}
    return [web, agent]


async def ensure(admin: KeycloakAdmin, spec: RealmSpec) -> str:
    """Create or repair the realm; returns its issuer URL."""
    try:
        found = await admin.request("GET", f"/{spec.slug}", realm=spec.slug)
    except RealmMissing:
        await _create(admin, spec)
        return admin.issuer(spec.slug)
    except RealmAccessRefused:
        await _restore_operator_account(admin, spec.slug)
        found = await admin.request("GET", f"/{spec.slug}", realm=spec.slug)
    _raise_for(found, f"reading realm {spec.slug}")
    # Updating a realm costs Keycloak about a second: only when something differs, so the
    # drift timer over many tenants stays cheap.
    settings = _realm_settings(spec)
    if _differs(found.json(), settings):
        _raise_for(await admin.request("PUT", f"/{spec.slug}", json=settings, realm=spec.slug),
                   f"updating realm {spec.slug}")
    await _ensure_roles(admin, spec.slug)
    for client in _clients(spec):
        await _ensure_client(admin, spec.slug, client)
    for user in _demo_users(spec):
        await _ensure_user(admin, spec.slug, user)
    return admin.issuer(spec.slug)


async def _create(admin: KeycloakAdmin, spec: RealmSpec) -> None:
    """The whole realm in one call (the only one a new tenant costs the master admin)."""
    operator_client, operator_user = admin.operator_account(spec.slug)
    body = {**_realm_settings(spec), "clients": [*_clients(spec), operator_client],
            "roles": {"realm": [{"name": role} for role in ROLES]},
            "users": [operator_user, *_demo_users(spec)], "components": KEY_PROVIDERS}
    created = await admin.request("POST", "", json=body)
    if created.status_code not in (201, 409):  # 409: a concurrent create won
        raise KeycloakError(f"creating realm {spec.slug} failed: {created.text}")


async def _restore_operator_account(admin: KeycloakAdmin, realm: str) -> None:
    """As the master admin: the realm enabled, its operator client present with the derived
    secret, and that client's service account a realm admin."""
    found = await admin.request("GET", f"/{realm}")
    _raise_for(found, f"reading realm {realm}")
    if not found.json().get("enabled"):
        _raise_for(await admin.request("PUT", f"/{realm}", json={"enabled": True}),
                   f"enabling realm {realm}")
    client, _ = admin.operator_account(realm)
    await _ensure_client(admin, realm, client, as_realm=MASTER)
    uuid = await _client_uuid(admin, realm, OPERATOR_CLIENT, as_realm=MASTER)
    account = await admin.request("GET", f"/{realm}/clients/{uuid}/service-account-user")
    _raise_for(account, f"finding the service account of {OPERATOR_CLIENT} in {realm}")
    management = await _client_uuid(admin, realm, "realm-management", as_realm=MASTER)
    role = await admin.request("GET", f"/{realm}/clients/{management}/roles/realm-admin")
    _raise_for(role, f"reading role realm-admin of {realm}")
    granted = await admin.request(
        "POST", f"/{realm}/users/{account.json()['id']}/role-mappings/clients/{management}",
        json=[role.json()])
    _raise_for(granted, f"making {OPERATOR_CLIENT} an admin of {realm}")


async def _client_uuid(admin: KeycloakAdmin, realm: str, client_id: str, as_realm: str) -> str:
    answer = await admin.request("GET", f"/{realm}/clients?clientId={client_id}", realm=as_realm)
    _raise_for(answer, f"finding client {client_id} in {realm}")
    found = answer.json()
    if not found:
        raise KeycloakError(f"client {client_id} not found in realm {realm}")
    return str(found[0]["id"])


async def _ensure_roles(admin: KeycloakAdmin, realm: str) -> None:
    answer = await admin.request("GET", f"/{realm}/roles", realm=realm)
    _raise_for(answer, f"listing roles of {realm}")
    present = {role["name"] for role in answer.json()}
    for role in ROLES:
        if role not in present:
            _raise_for(await admin.request("POST", f"/{realm}/roles", json={"name": role},
                                           realm=realm),
                       f"creating role {role} in {realm}")


async def _ensure_client(admin: KeycloakAdmin, realm: str, client: dict[str, Any],
                         as_realm: str | None = None) -> None:
    caller = as_realm or realm
    answer = await admin.request("GET", f"/{realm}/clients?clientId={client['clientId']}",
                                 realm=caller)
    _raise_for(answer, f"finding client {client['clientId']} in {realm}")
    existing = answer.json()
    if not existing:
        _raise_for(await admin.request("POST", f"/{realm}/clients", json=client, realm=caller),
                   f"creating client {client['clientId']} in {realm}")
        return
    settings = {k: v for k, v in client.items() if k != "protocolMappers"}
    if not _differs(existing[0], settings):
        return
    _raise_for(await admin.request("PUT", f"/{realm}/clients/{existing[0]['id']}",
                                   json={**existing[0], **settings}, realm=caller),
               f"updating client {client['clientId']} in {realm}")


def _demo_users(spec: RealmSpec) -> list[dict[str, Any]]:
    if not spec.demo_users:
        return []
    # Every profile attribute Keycloak requires is set, or a password login is refused with
    # "Account is not fully set up".
    return [{"username": name, "enabled": True, "email": f"{name}@{spec.slug}.demo.simptu.local",
             "emailVerified": True, "firstName": name.capitalize(), "lastName": "Demo",
             "realmRoles": [role],
             "credentials": [{"type": "password", "value": DEMO_PASSWORD, "temporary": False}]}
            for name, role in DEMO_USERS]


async def _ensure_user(admin: KeycloakAdmin, realm: str, user: dict[str, Any]) -> None:
    """Create a missing demo user with its role (not its password: a changed one is kept)."""
    path = f"/{realm}/users?exact=true&username={user['username']}"
    answer = await admin.request("GET", path, realm=realm)
    _raise_for(answer, f"finding user {user['username']} in {realm}")
    if answer.json():
        return
    fields = {key: value for key, value in user.items() if key != "realmRoles"}
    await create_user(admin, realm, fields, list(user["realmRoles"]))


async def check(admin: KeycloakAdmin, slug: str) -> bool:
    """True when the realm exists, is enabled and its operator account works."""
    try:
        answer = await admin.request("GET", f"/{slug}", realm=slug)
    except (RealmMissing, RealmAccessRefused):
        return False
    _raise_for(answer, f"reading realm {slug}")
    return bool(answer.json().get("enabled"))


async def remove(admin: KeycloakAdmin, slug: str) -> None:
    """Delete the realm: as its own operator account (cheap), or as the master admin when that
    account is gone."""
    try:
        answer = await admin.request("DELETE", f"/{slug}", realm=slug)
    except RealmMissing:
        return
    except RealmAccessRefused:
        answer = await admin.request("DELETE", f"/{slug}")
    finally:
        admin.forget(slug)
    if answer.status_code not in (204, 404):
        raise KeycloakError(f"deleting realm {slug} failed ({answer.status_code}): {answer.text}")


def _differs(current: dict[str, Any], desired: dict[str, Any]) -> bool:
    """True when a desired setting is missing or different (nested maps compared by key)."""
    for key, value in desired.items():
        if isinstance(value, dict):
            if _differs(current.get(key) or {}, value):
                return True
        elif current.get(key) != value:
            return True
    return False


def _raise_for(answer: httpx.Response, doing: str) -> None:
    if answer.status_code >= 400:
        raise KeycloakError(f"{doing} failed ({answer.status_code}): {answer.text[:300]}")
