"""A tenant's Keycloak realm: its own login, with the platform's roles and clients.

`ensure` creates the realm or brings its settings, roles and clients back to what the Tenant
says; `check` tells whether it exists and is enabled; `remove` deletes it. All through
Keycloak's admin REST API, authenticated as the master realm's admin.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

ROLES = ("platform-admin", "tenant-admin", "staff", "customer")
WEB_CLIENT = "simptu-web"
AGENT_CLIENT = "simptu-agent"
API_AUDIENCE = "simptu-api"
# Local stack only, for Tenants labelled simptu.io/demo: a user per role, password "demo", so a
# newcomer or a test gets a token with one curl.
DEMO_USERS = (("admin", "tenant-admin"), ("staff", "staff"), ("customer", "customer"))
DEMO_PASSWORD = "demo"  # noqa: S105 - the documented password of the local demo users


class KeycloakError(RuntimeError):
    """Keycloak refused or failed a request; the message says which and why."""


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


@dataclass
class KeycloakAdmin:
    """A small client of the admin API with a cached admin token and bounded retries."""

    base_url: str
    username: str
    password: str
    timeout: float = 30.0
    attempts: int = 4
    max_concurrent: int = 4
    _token: str = ""
    _expires: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _slots: asyncio.Semaphore | None = None

    def issuer(self, realm: str) -> str:
        return f"{self.base_url.rstrip('/')}/realms/{realm}"

    async def _admin_token(self, http: httpx.AsyncClient) -> str:
        async with self._lock:
            if time.monotonic() < self._expires:
                return self._token
            answer = await http.post("/realms/master/protocol/openid-connect/token", data={
                "grant_type": "password", "client_id": "admin-cli",
                "username": self.username, "password": self.password})
            if answer.status_code != 200:
                raise KeycloakError(f"admin login refused ({answer.status_code}): {answer.text}")
            body = answer.json()
            self._token = body["access_token"]
            self._expires = time.monotonic() + body.get("expires_in", 60) - 15
            return self._token

    async def request(self, method: str, path: str, json: Any = None) -> httpx.Response:
        """One admin call; connection errors and 5xx are retried with backoff. At most
        `max_concurrent` calls are in flight: creating a realm is heavy work for Keycloak."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrent)
        async with self._slots:
            return await self._request(method, path, json)

    async def _request(self, method: str, path: str, json: Any) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout) as http:
            for attempt in range(self.attempts):
                try:
                    token = await self._admin_token(http)
                    answer = await http.request(method, f"/admin/realms{path}", json=json,
                                                headers={"Authorization": f"Bearer {token}"})
                except httpx.TransportError as error:
                    failure = f"{type(error).__name__}: {error}"
                else:
                    if answer.status_code == 401:
                        self._expires = 0.0  # token revoked or expired early: log in again
                        failure = "401 Unauthorized"
                    elif answer.status_code < 500:
                        return answer
                    else:
                        failure = f"{answer.status_code}: {answer.text[:200]}"
                await asyncio.sleep(0.5 * 2 ** attempt)
        raise KeycloakError(f"{method} {path} failed after {self.attempts} attempts ({failure})")


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
           "attributes": {"pkce.code.challenge.method": "S256"},
           "protocolMappers": [audience]}
    agent = {"clientId": AGENT_CLIENT, "name": "Simptu agent", "publicClient": False,
             "serviceAccountsEnabled": True, "standardFlowEnabled": False,
             "directAccessGrantsEnabled": False, "protocolMappers": [audience]}
    return [web, agent]


async def ensure(admin: KeycloakAdmin, spec: RealmSpec) -> str:
    """Create or repair the realm; returns its issuer URL."""
    found = await admin.request("GET", f"/{spec.slug}")
    if found.status_code == 404:
        body = {**_realm_settings(spec), "clients": _clients(spec),
                "roles": {"realm": [{"name": role} for role in ROLES]},
                "users": _demo_users(spec)}
        created = await admin.request("POST", "", json=body)
        if created.status_code not in (201, 409):  # 409: a concurrent create won
            raise KeycloakError(f"creating realm {spec.slug} failed: {created.text}")
        return admin.issuer(spec.slug)
    _raise_for(found, f"reading realm {spec.slug}")
    # Updating a realm costs Keycloak about a second: only when something differs, so the
    # drift timer over many tenants stays cheap.
    settings = _realm_settings(spec)
    if _differs(found.json(), settings):
        _raise_for(await admin.request("PUT", f"/{spec.slug}", json=settings),
                   f"updating realm {spec.slug}")
    await _ensure_roles(admin, spec.slug)
    for client in _clients(spec):
        await _ensure_client(admin, spec.slug, client)
    for user in _demo_users(spec):
        await _ensure_user(admin, spec.slug, user)
    return admin.issuer(spec.slug)


async def _ensure_roles(admin: KeycloakAdmin, realm: str) -> None:
    answer = await admin.request("GET", f"/{realm}/roles")
    _raise_for(answer, f"listing roles of {realm}")
    present = {role["name"] for role in answer.json()}
    for role in ROLES:
        if role not in present:
            _raise_for(await admin.request("POST", f"/{realm}/roles", json={"name": role}),
                       f"creating role {role} in {realm}")


async def _ensure_client(admin: KeycloakAdmin, realm: str, client: dict[str, Any]) -> None:
    answer = await admin.request("GET", f"/{realm}/clients?clientId={client['clientId']}")
    _raise_for(answer, f"finding client {client['clientId']} in {realm}")
    existing = answer.json()
    if not existing:
        _raise_for(await admin.request("POST", f"/{realm}/clients", json=client),
                   f"creating client {client['clientId']} in {realm}")
        return
    settings = {k: v for k, v in client.items() if k != "protocolMappers"}
    if not _differs(existing[0], settings):
        return
    _raise_for(await admin.request("PUT", f"/{realm}/clients/{existing[0]['id']}",
                                   json={**existing[0], **settings}),
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
    answer = await admin.request("GET", f"/{realm}/users?exact=true&username={user['username']}")
    _raise_for(answer, f"finding user {user['username']} in {realm}")
    if answer.json():
        return
    _raise_for(await admin.request("POST", f"/{realm}/users", json=user),
               f"creating user {user['username']} in {realm}")
    created = (await admin.request(
        "GET", f"/{realm}/users?exact=true&username={user['username']}")).json()[0]
    roles = []
    for name in user["realmRoles"]:
        found = await admin.request("GET", f"/{realm}/roles/{name}")
        _raise_for(found, f"reading role {name} of {realm}")
        roles.append(found.json())
    _raise_for(await admin.request("POST", f"/{realm}/users/{created['id']}/role-mappings/realm",
                                   json=roles), f"granting {user['username']} its role in {realm}")


async def check(admin: KeycloakAdmin, slug: str) -> bool:
    """True when the realm exists and is enabled."""
    answer = await admin.request("GET", f"/{slug}")
    if answer.status_code == 404:
        return False
    _raise_for(answer, f"reading realm {slug}")
    return bool(answer.json().get("enabled"))


async def remove(admin: KeycloakAdmin, slug: str) -> None:
    answer = await admin.request("DELETE", f"/{slug}")
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
