"""A tenant's realm in the real Keycloak: created with the platform's roles and clients,
repaired when it drifts, removed on request."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from simptu.devstack.envfile import StackEnv
from simptu.operator import keycloak
from simptu.operator.keycloak import KeycloakAdmin, RealmSpec
from simptu.runtime.core.keycloak_admin import OPERATOR_CLIENT


@pytest.fixture
async def admin(stack: StackEnv) -> KeycloakAdmin:
    return KeycloakAdmin.from_environment(stack.values)


@pytest.fixture
async def spec(admin: KeycloakAdmin, unique: str) -> AsyncIterator[RealmSpec]:
    yield RealmSpec(slug=f"{unique}-clinic", display_name="Zâmbet Dental",
                    allowed_origins=("https://zambet.example",), direct_access_grants=True)
    await keycloak.remove(admin, f"{unique}-clinic")


def _claims(token: str) -> dict[str, object]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


async def _token_for_new_user(admin: KeycloakAdmin, realm: str) -> dict[str, object]:
    user = {"username": "ana", "enabled": True, "email": "ana@zambet.example",
            "emailVerified": True, "firstName": "Ana", "lastName": "Pop",
            "credentials": [{"type": "password", "value": "a-long-demo-password",
                             "temporary": False}]}
    assert (await admin.request("POST", f"/{realm}/users", json=user)).status_code == 201
    async with httpx.AsyncClient(base_url=admin.issuer(realm), timeout=30) as http:
        issued = await http.post("/protocol/openid-connect/token", data={
            "grant_type": "password", "client_id": keycloak.WEB_CLIENT, "username": "ana",
            "password": "a-long-demo-password"})
    assert issued.status_code == 200, issued.text
    return _claims(issued.json()["access_token"])


async def test_a_new_realm_has_the_roles_clients_and_audience_of_the_platform(
    admin: KeycloakAdmin, spec: RealmSpec
) -> None:
    issuer = await keycloak.ensure(admin, spec)
    assert issuer == admin.issuer(spec.slug)
    assert await keycloak.check(admin, spec.slug)
    roles = {r["name"] for r in (await admin.request("GET", f"/{spec.slug}/roles")).json()}
    assert set(keycloak.ROLES) <= roles
    web = (await admin.request("GET", f"/{spec.slug}/clients?clientId=simptu-web")).json()[0]
    assert web["publicClient"] is True
    assert web["redirectUris"] == ["https://zambet.example/*"]
    claims = await _token_for_new_user(admin, spec.slug)
    assert claims["iss"] == issuer
    assert keycloak.API_AUDIENCE in (claims["aud"] if isinstance(claims["aud"], list)
                                     else [claims["aud"]])
    # Only the keys named: tokens are signed RS256, and no RSA-OAEP key was generated.
    keys = (await admin.request("GET", f"/{spec.slug}/keys")).json()["keys"]
    assert sorted(key["algorithm"] for key in keys) == ["AES", "HS512", "RS256"]


async def test_ensure_twice_changes_nothing_and_repairs_drift(admin: KeycloakAdmin,
                                                              spec: RealmSpec) -> None:
    await keycloak.ensure(admin, spec)
    await keycloak.ensure(admin, spec)
    # Drift by hand: a role and a client deleted, a setting changed.
    await admin.request("DELETE", f"/{spec.slug}/roles/staff")
    agent = (await admin.request("GET", f"/{spec.slug}/clients?clientId=simptu-agent")).json()
    await admin.request("DELETE", f"/{spec.slug}/clients/{agent[0]['id']}")
    await admin.request("PUT", f"/{spec.slug}", json={"accessTokenLifespan": 9999})

    await keycloak.ensure(admin, spec)

    realm = (await admin.request("GET", f"/{spec.slug}")).json()
    assert realm["accessTokenLifespan"] == spec.access_token_lifespan
    roles = {r["name"] for r in (await admin.request("GET", f"/{spec.slug}/roles")).json()}
    assert "staff" in roles
    found = (await admin.request("GET", f"/{spec.slug}/clients?clientId=simptu-agent")).json()
    assert len(found) == 1


async def test_the_realm_is_run_by_its_own_operator_account_which_cannot_touch_another(
    admin: KeycloakAdmin, spec: RealmSpec, realm: str
) -> None:
    await keycloak.ensure(admin, spec)
    own = await admin.request("GET", f"/{spec.slug}/clients?clientId={OPERATOR_CLIENT}",
                              realm=spec.slug)
    assert own.status_code == 200
    assert own.json()[0]["serviceAccountsEnabled"] is True
    foreign = await admin.request("GET", f"/{realm}", realm=spec.slug)
    assert foreign.status_code == 403


async def test_a_deleted_operator_account_a_new_secret_key_or_a_disabled_realm_are_repaired(
    admin: KeycloakAdmin, spec: RealmSpec, stack: StackEnv
) -> None:
    await keycloak.ensure(admin, spec)
    found = (await admin.request("GET", f"/{spec.slug}/clients?clientId={OPERATOR_CLIENT}")).json()
    await admin.request("DELETE", f"/{spec.slug}/clients/{found[0]['id']}")
    admin.forget(spec.slug)
    assert not await keycloak.check(admin, spec.slug)

    await keycloak.ensure(admin, spec)
    assert await keycloak.check(admin, spec.slug)

    rekeyed = KeycloakAdmin(stack["SIMPTU_KEYCLOAK_URL"], stack["SIMPTU_KEYCLOAK_ADMIN_USER"],
                            stack["SIMPTU_KEYCLOAK_ADMIN_PASSWORD"], secret_key="a-new-key")
    await admin.request("PUT", f"/{spec.slug}", json={"enabled": False})
    assert not await keycloak.check(rekeyed, spec.slug)

    await keycloak.ensure(rekeyed, spec)

    assert await keycloak.check(rekeyed, spec.slug)
    assert (await admin.request("GET", f"/{spec.slug}")).json()["enabled"] is True
    await rekeyed.aclose()


async def test_a_removed_realm_is_gone_and_removing_again_is_harmless(
    admin: KeycloakAdmin, spec: RealmSpec
) -> None:
    await keycloak.ensure(admin, spec)
    await keycloak.remove(admin, spec.slug)
    assert not await keycloak.check(admin, spec.slug)
    await keycloak.remove(admin, spec.slug)


async def test_keycloak_unreachable_is_a_clear_error_after_retries() -> None:
    admin = KeycloakAdmin("http://127.0.0.1:9", "admin", "x", timeout=1, attempts=2)
    with pytest.raises(keycloak.KeycloakError, match="failed after 2 attempts"):
        await keycloak.check(admin, "anything")


async def _demo_login(admin: KeycloakAdmin, realm: str, username: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=admin.issuer(realm), timeout=30) as http:
        issued = await http.post("/protocol/openid-connect/token", data={
            "grant_type": "password", "client_id": keycloak.WEB_CLIENT, "username": username,
            "password": keycloak.DEMO_PASSWORD})
    assert issued.status_code == 200, issued.text
    return _claims(issued.json()["access_token"])


async def test_a_demo_realm_has_a_user_per_role_and_a_deleted_one_comes_back(
    admin: KeycloakAdmin, spec: RealmSpec
) -> None:
    demo = RealmSpec(slug=spec.slug, display_name=spec.display_name, password_policy="",
                     direct_access_grants=True, demo_users=True)
    await keycloak.ensure(admin, demo)
    for username, role in keycloak.DEMO_USERS:
        claims = await _demo_login(admin, demo.slug, username)
        assert role in claims["realm_access"]["roles"]  # type: ignore[index]
    staff = (await admin.request("GET", f"/{demo.slug}/users?exact=true&username=staff")).json()
    await admin.request("DELETE", f"/{demo.slug}/users/{staff[0]['id']}")

    await keycloak.ensure(admin, demo)

    assert "staff" in (await _demo_login(admin, demo.slug, "staff"))["realm_access"]["roles"]  # type: ignore[index]
