"""A client of Keycloak's admin REST API: as the master realm's admin, or as one realm's own
operator account. Shared by the operator (realms) and the API (users of accepted invitations).

Keycloak rebuilds the caller's identity on every admin call, and the master admin's identity
grows with every realm (each new realm adds its management roles to the master `admin` role), so
with hundreds of realms one master-admin call costs seconds. Only creating a realm, and repairing
a realm's operator account, need the master admin; everything else about a tenant's realm is done
as that realm's service account `simptu-operator` (role `realm-admin` of that realm only), whose
calls stay cheap however many realms exist. Its secret is derived from the operator's key and the
realm's name, so nothing per tenant has to be stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

OPERATOR_CLIENT = "simptu-operator"
# Every realm's public client of the browser apps (widget sign-in, staff inbox): code + PKCE.
WEB_CLIENT = "simptu-web"
MASTER = "master"


class KeycloakError(RuntimeError):
    """Keycloak refused or failed a request; the message says which and why."""


class RealmMissing(KeycloakError):
    """The realm does not exist."""


class LoginUnavailable(KeycloakError):
    """The token endpoint failed (5xx): retried like any other call."""


class RealmAccessRefused(KeycloakError):
    """The realm's operator account cannot log in: removed, its secret changed, or the realm is
    disabled. Repaired as the master admin."""


@dataclass
class KeycloakAdmin:
    """Admin calls with cached tokens (one per realm), bounded retries, and at most
    `max_concurrent` master-admin calls in flight: creating a realm is heavy work for Keycloak."""

    base_url: str
    username: str
    password: str
    # Derives each realm's operator secret; the admin password when not set.
    secret_key: str = ""
    timeout: float = 30.0
    attempts: int = 4
    max_concurrent: int = 4
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _master_slots: asyncio.Semaphore | None = None
    _http: httpx.AsyncClient | None = None

    @classmethod
    def from_environment(cls, values: Mapping[str, str]) -> KeycloakAdmin:
        """From the SIMPTU_KEYCLOAK_* settings the local stack writes to its env file."""
        return cls(values["SIMPTU_KEYCLOAK_URL"], values["SIMPTU_KEYCLOAK_ADMIN_USER"],
                   values["SIMPTU_KEYCLOAK_ADMIN_PASSWORD"],
                   values.get("SIMPTU_KEYCLOAK_REALM_SECRET_KEY", ""))

    def issuer(self, realm: str) -> str:
        return f"{self.base_url.rstrip('/')}/realms/{realm}"

    def operator_secret(self, realm: str) -> str:
        key = (self.secret_key or self.password).encode()
        message = f"keycloak-operator-client:{realm}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def operator_account(self, realm: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The realm's operator client and its service account, as Keycloak represents them."""
        client = {"clientId": OPERATOR_CLIENT, "name": "Simptu operator", "publicClient": False,
                  "secret": self.operator_secret(realm), "serviceAccountsEnabled": True,
                  "standardFlowEnabled": False, "directAccessGrantsEnabled": False}
        user = {"username": f"service-account-{OPERATOR_CLIENT}", "enabled": True,
                "serviceAccountClientId": OPERATOR_CLIENT,
                "clientRoles": {"realm-management": ["realm-admin"]}}
        return client, user

    async def request(self, method: str, path: str, json: Any = None,
                      realm: str = MASTER) -> httpx.Response:
        """One call below /admin/realms, as `realm`'s operator account (as the master admin
        when `realm` is master). Connection errors and 5xx are retried with backoff."""
        if realm != MASTER:
            return await self._request(method, path, json, realm)
        if self._master_slots is None:
            self._master_slots = asyncio.Semaphore(self.max_concurrent)
        async with self._master_slots:
            return await self._request(method, path, json, realm)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def forget(self, realm: str) -> None:
        """Drop the cached token of a removed realm."""
        self._tokens.pop(realm, None)
        self._locks.pop(realm, None)

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout)
        return self._http

    async def _request(self, method: str, path: str, json: Any, realm: str) -> httpx.Response:
        failure = ""
        for attempt in range(self.attempts):
            try:
                token = await self._token(realm)
                answer = await self._client().request(
                    method, f"/admin/realms{path}", json=json,
                    headers={"Authorization": f"Bearer {token}"})
            except (httpx.TransportError, LoginUnavailable) as error:
                failure = f"{type(error).__name__}: {error}"
            else:
                if answer.status_code == 401:
                    self._tokens.pop(realm, None)  # revoked or expired early: log in again
                    failure = "401 Unauthorized"
                elif answer.status_code < 500:
                    return answer
                else:
                    failure = f"{answer.status_code}: {answer.text[:200]}"
            await asyncio.sleep(0.5 * 2 ** attempt)
        raise KeycloakError(f"{method} {path} failed after {self.attempts} attempts ({failure})")

    async def _token(self, realm: str) -> str:
        lock = self._locks.setdefault(realm, asyncio.Lock())
        async with lock:
            token, expires = self._tokens.get(realm, ("", 0.0))
            if time.monotonic() < expires:
                return token
            answer = await self._client().post(
                f"/realms/{realm}/protocol/openid-connect/token", data=self._grant(realm))
            if answer.status_code != 200:
                raise self._login_refused(realm, answer)
            body = answer.json()
            self._tokens[realm] = (body["access_token"],
                                   time.monotonic() + body.get("expires_in", 60) - 15)
            return str(body["access_token"])

    def _grant(self, realm: str) -> dict[str, str]:
        if realm == MASTER:
            return {"grant_type": "password", "client_id": "admin-cli",
                    "username": self.username, "password": self.password}
        return {"grant_type": "client_credentials", "client_id": OPERATOR_CLIENT,
                "client_secret": self.operator_secret(realm)}

    def _login_refused(self, realm: str, answer: httpx.Response) -> KeycloakError:
        said = f"({answer.status_code}): {answer.text[:200]}"
        if answer.status_code >= 500:
            return LoginUnavailable(f"logging in to realm {realm} failed {said}")
        if realm == MASTER:
            return KeycloakError(f"admin login refused {said}")
        if answer.status_code == 404:
            return RealmMissing(f"realm {realm} does not exist")
        return RealmAccessRefused(f"the operator account of realm {realm} was refused {said}")


class UserExists(KeycloakError):
    """The realm has a user with this username or e-mail already."""


class UserRefused(KeycloakError):
    """Keycloak refused the user as given (a password its policy refuses, a bad attribute)."""


async def create_user(admin: KeycloakAdmin, realm: str, user: dict[str, Any],
                      roles: list[str]) -> str:
    """Create `user` (a Keycloak UserRepresentation) with realm `roles`, as the realm's own
    operator account; returns its id. A user whose roles cannot be granted is deleted again,
    so a failure leaves nothing half made."""
    created = await admin.request("POST", f"/{realm}/users", json=user, realm=realm)
    if created.status_code == 409:
        raise UserExists(f"realm {realm} has a user {user.get('username')!r} already")
    if created.status_code == 400:
        said = created.json().get("errorMessage", created.text[:200]) if created.content else ""
        raise UserRefused(f"realm {realm} refused the user: {said}")
    if created.status_code != 201:
        raise KeycloakError(f"creating a user in {realm} failed ({created.status_code}): "
                            f"{created.text[:300]}")
    user_id = created.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    try:
        granted = []
        for name in roles:
            found = await admin.request("GET", f"/{realm}/roles/{name}", realm=realm)
            if found.status_code != 200:
                raise KeycloakError(f"reading role {name} of {realm} failed ({found.status_code})")
            granted.append(found.json())
        mapped = await admin.request("POST", f"/{realm}/users/{user_id}/role-mappings/realm",
                                     json=granted, realm=realm)
        if mapped.status_code >= 400:
            raise KeycloakError(f"granting roles in {realm} failed ({mapped.status_code})")
    except KeycloakError:
        await admin.request("DELETE", f"/{realm}/users/{user_id}", realm=realm)
        raise
    return user_id
