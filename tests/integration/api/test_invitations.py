"""Invitations over HTTP with real tokens: an admin invites, the invitee accepts and is then a
user of the tenant's realm who signs in with their own password; a used, expired or revoked
invitation is refused and makes nobody."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import asyncpg
import httpx

from simptu.operator import keycloak
from simptu.runtime.core.database import TenantUnitOfWork
from tests.integration.api.conftest import ApiTenant, UserHeaders

PERSON = {"password": "a long Passw0rd!", "first_name": "Ana", "last_name": "Pop"}


def new_address() -> str:
    return f"invitee-{uuid.uuid4().hex[:10]}@example.com"


async def invite(api: httpx.AsyncClient, admin: dict[str, str], email: str,
                 role: str = "staff") -> dict[str, Any]:
    made = await api.post("/v1/invitations", json={"email": email, "role": role}, headers=admin)
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


async def realm_users(admin: keycloak.KeycloakAdmin, tenant: ApiTenant,
                      email: str) -> list[dict[str, Any]]:
    found = await admin.request("GET", f"/{tenant.slug}/users?exact=true&email={email}",
                                realm=tenant.slug)
    users: list[dict[str, Any]] = found.json()
    return users


async def test_an_accepted_invitation_makes_a_user_who_signs_in_with_their_password(
        api: httpx.AsyncClient, as_user: UserHeaders, tenant_a: ApiTenant,
        db: asyncpg.Pool) -> None:
    email = new_address()
    invitation = await invite(api, await as_user(tenant_a, "admin"), email)
    assert invitation["status"] == "pending"
    assert invitation["accept_url"].endswith(
        f"/invitations/{tenant_a.slug}/accept?token={invitation['token']}")
    accepted = await api.post(f"/v1/invitations/{invitation['token']}/accept", json=PERSON,
                              headers={"Host": tenant_a.host})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["role"] == "staff"

    async with httpx.AsyncClient(timeout=30) as http:
        login = await http.post(f"{tenant_a.issuer}/protocol/openid-connect/token", data={
            "grant_type": "password", "client_id": "simptu-web", "username": email,
            "password": PERSON["password"]})
    assert login.status_code == 200, login.text
    me = await api.get("/v1/me", headers={
        "Host": tenant_a.host, "Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["subject"] == accepted.json()["user_id"]
    assert "staff" in me.json()["roles"]

    async with TenantUnitOfWork(db, tenant_a.names) as conn:
        stored = await conn.fetchrow("SELECT * FROM invitations WHERE id = $1",
                                     uuid.UUID(invitation["id"]))
        queued = [json.loads(row["event"]) for row in await conn.fetch(
            "SELECT event FROM outbox WHERE key = $1", invitation["id"].encode())]
    assert stored["status"] == "accepted"
    assert email.encode() not in stored["email"]
    assert bytes(stored["token_hash"]) == hashlib.sha256(invitation["token"].encode()).digest()
    [event] = queued
    assert event["type"] == "io.simptu.invitation.created"
    assert email not in json.dumps(event)
    assert invitation["token"] not in json.dumps(event)


async def test_a_used_invitation_is_refused_and_makes_nobody_else(
        api: httpx.AsyncClient, as_user: UserHeaders, tenant_a: ApiTenant,
        keycloak_admin_client: keycloak.KeycloakAdmin) -> None:
    email = new_address()
    invitation = await invite(api, await as_user(tenant_a, "admin"), email, "customer")
    path = f"/v1/invitations/{invitation['token']}/accept"
    first = await api.post(path, json=PERSON, headers={"Host": tenant_a.host})
    assert first.status_code == 201, first.text
    again = await api.post(path, json=PERSON | {"first_name": "Other"},
                           headers={"Host": tenant_a.host})
    assert again.status_code == 409, again.text
    assert again.json()["type"].endswith("/invitation-used")
    assert again.headers["content-type"] == "application/problem+json"
    [user] = await realm_users(keycloak_admin_client, tenant_a, email)
    assert user["firstName"] == "Ana"


async def test_expired_and_revoked_invitations_are_refused_and_make_no_user(
        api: httpx.AsyncClient, as_user: UserHeaders, tenant_a: ApiTenant, db: asyncpg.Pool,
        keycloak_admin_client: keycloak.KeycloakAdmin) -> None:
    admin = await as_user(tenant_a, "admin")
    expired, revoked = new_address(), new_address()
    old = await invite(api, admin, expired)
    async with TenantUnitOfWork(db, tenant_a.names) as conn:
        await conn.execute("UPDATE invitations SET expires_at = now() - interval '1 minute' "
                           "WHERE id = $1", uuid.UUID(old["id"]))
    withdrawn = await invite(api, admin, revoked)
    revoke = await api.post(f"/v1/invitations/{withdrawn['id']}/revoke", headers=admin)
    assert revoke.status_code == 200, revoke.text
    assert revoke.json()["status"] == "revoked"
    assert (await api.post(f"/v1/invitations/{withdrawn['id']}/revoke",
                           headers=admin)).status_code == 409

    for invitation, kind in ((old, "invitation-expired"), (withdrawn, "invitation-revoked")):
        refused = await api.post(f"/v1/invitations/{invitation['token']}/accept", json=PERSON,
                                 headers={"Host": tenant_a.host})
        assert refused.status_code == 410, refused.text
        assert refused.json()["type"].endswith(kind)
    for email in (expired, revoked):
        assert await realm_users(keycloak_admin_client, tenant_a, email) == []
    listed = (await api.get("/v1/invitations", params={"limit": 100}, headers=admin)).json()
    shown = {item["email"]: item["status"] for item in listed["items"]}
    assert shown[expired] == "expired"
    assert shown[revoked] == "revoked"


async def test_only_admins_invite_and_one_address_has_one_pending_invitation(
        api: httpx.AsyncClient, as_user: UserHeaders, tenant_a: ApiTenant) -> None:
    email = new_address()
    for user in ("staff", "customer"):
        refused = await api.post("/v1/invitations", json={"email": email, "role": "staff"},
                                 headers=await as_user(tenant_a, user))
        assert refused.status_code == 403, refused.text
    admin = await as_user(tenant_a, "admin")
    await invite(api, admin, email)
    twice = await api.post("/v1/invitations", json={"email": email.upper(), "role": "customer"},
                           headers=admin)
    assert twice.status_code == 409, twice.text
    unknown = await api.post("/v1/invitations/not-a-token/accept", json=PERSON,
                             headers={"Host": tenant_a.host})
    assert unknown.status_code == 404


async def test_another_tenant_cannot_revoke_or_accept_an_invitation(
        api: httpx.AsyncClient, as_user: UserHeaders, tenant_a: ApiTenant,
        tenant_b: ApiTenant) -> None:
    invitation = await invite(api, await as_user(tenant_a, "admin"), new_address())
    admin_b = await as_user(tenant_b, "admin")
    revoke = await api.post(f"/v1/invitations/{invitation['id']}/revoke", headers=admin_b)
    assert revoke.status_code == 404
    accept = await api.post(f"/v1/invitations/{invitation['token']}/accept", json=PERSON,
                            headers={"Host": tenant_b.host})
    assert accept.status_code == 404
    listed = (await api.get("/v1/invitations", headers=admin_b)).json()
    assert invitation["id"] not in {item["id"] for item in listed["items"]}
