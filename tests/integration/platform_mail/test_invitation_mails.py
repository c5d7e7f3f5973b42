"""An invitation by mail, end to end on the stack: the mail arrives once (text and HTML, in the
invitation's language, marked auto-generated), its link opens a page, accepting there makes
the user in the tenant's realm and leads into the realm's login, where the user signs in; a
link used again, expired, withdrawn or unknown gets a page that says why and makes nobody."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit

import httpx

from simptu.runtime.core.database import TenantUnitOfWork
from tests.integration.platform_mail.conftest import (
    PASSWORD,
    Platform,
    link_in,
    new_address,
    sign_in,
)

PERSON = {"first_name": "Ioana", "last_name": "Marin", "password": PASSWORD}


def page_path(link: str) -> str:
    """The link as the API serves it (the mail's host is the stack's API)."""
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


async def realm_user_ids(platform: Platform, email: str) -> list[str]:
    admin = await platform.headers()
    del admin["X-Simptu-Tenant"]
    async with httpx.AsyncClient(timeout=30) as http:
        token = await http.post(
            f"{platform.stack['SIMPTU_KEYCLOAK_URL']}/realms/master/protocol/openid-connect/token",
            data={"grant_type": "password", "client_id": "admin-cli",
                  "username": platform.stack["SIMPTU_KEYCLOAK_ADMIN_USER"],
                  "password": platform.stack["SIMPTU_KEYCLOAK_ADMIN_PASSWORD"]})
        found = await http.get(
            f"{platform.stack['SIMPTU_KEYCLOAK_URL']}/admin/realms/{platform.tenant.slug}/users",
            params={"email": email, "exact": "true"},
            headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    return [user["id"] for user in found.json()]


async def test_an_invitation_mail_leads_through_its_page_into_the_realms_login(
        platform: Platform) -> None:
    email = new_address()
    invitation = await platform.invite(email, "customer", "en")
    mail = await platform.mail(email, "You are invited to")
    assert mail["Subject"] == "You are invited to Zâmbet Dental Cluj"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Content-Language"] == "en"
    link = link_in(mail)
    assert link == invitation["accept_url"]

    page = await platform.api.get(page_path(link))
    assert page.status_code == 200, page.text
    assert email in page.text
    assert 'method="post"' in page.text
    assert await realm_user_ids(platform, email) == []  # opening the link used nothing

    accepted = await platform.api.post(page_path(link).split("?")[0],
                                       data={**PERSON, "token": invitation["token"]})
    assert accepted.status_code == 303, accepted.text
    login = accepted.headers["location"]
    assert login.startswith(f"{platform.issuer}/protocol/openid-connect/auth?")
    [user_id] = await realm_user_ids(platform, email)

    async with httpx.AsyncClient(timeout=30) as browser:
        claims = await sign_in(browser, login, email, PASSWORD)
    assert claims["sub"] == user_id
    assert claims["email"] == email

    async with TenantUnitOfWork(platform.db, platform.tenant) as conn:
        customer = await conn.fetchrow("SELECT email, locale FROM customers WHERE id = $1",
                                       uuid.UUID(user_id))
        recorded = await conn.fetchrow("SELECT kind, status, attempts FROM platform_mails "
                                       "WHERE message_id = $1", mail["Message-ID"])
    assert customer["locale"] == "en"  # booking mails reach them, in English
    assert email.encode() not in customer["email"]
    assert dict(recorded) == {"kind": "invitation", "status": "sent", "attempts": 1}
    assert [m["Subject"] for m in await asyncio.to_thread(platform.mailbox, email)] == [
        "You are invited to Zâmbet Dental Cluj"]  # once


async def test_a_used_link_is_refused_with_a_page_that_says_why(platform: Platform) -> None:
    email = new_address()
    invitation = await platform.invite(email, "staff", "en")
    link = link_in(await platform.mail(email, "You are invited to"))
    first = await platform.api.post(page_path(link).split("?")[0],
                                    data={**PERSON, "token": invitation["token"]})
    assert first.status_code == 303, first.text

    again = await platform.api.get(page_path(link))
    assert again.status_code == 409
    assert "This invitation was accepted already" in again.text
    assert 'data-reason="invitation-used"' in again.text
    assert "/protocol/openid-connect/auth?" in again.text  # on to signing in instead
    posted = await platform.api.post(page_path(link).split("?")[0],
                                     data={**PERSON, "first_name": "Other",
                                           "token": invitation["token"]})
    assert posted.status_code == 409
    assert len(await realm_user_ids(platform, email)) == 1


async def test_expired_withdrawn_and_unknown_links_get_pages_that_say_why(
        platform: Platform) -> None:
    expired, withdrawn = new_address(), new_address()
    old = await platform.invite(expired, "customer", "ro")
    async with TenantUnitOfWork(platform.db, platform.tenant) as conn:
        await conn.execute("UPDATE invitations SET expires_at = now() - interval '1 minute' "
                           "WHERE id = $1", uuid.UUID(old["id"]))
    revoked = await platform.invite(withdrawn, "customer", "en")
    answer = await platform.api.post(f"/v1/invitations/{revoked['id']}/revoke",
                                     headers=await platform.headers())
    assert answer.status_code == 200, answer.text

    for invitation, status, words in (
            (old, 410, "Invitația a expirat"),
            (revoked, 410, "This invitation was withdrawn")):
        path = page_path(invitation["accept_url"])
        shown = await platform.api.get(path)
        assert shown.status_code == status
        assert words in shown.text
        assert 'method="post"' not in shown.text
        posted = await platform.api.post(path.split("?")[0],
                                         data={**PERSON, "token": invitation["token"]})
        assert posted.status_code == status
        assert words in posted.text
    for email in (expired, withdrawn):
        assert await realm_user_ids(platform, email) == []

    unknown = await platform.api.get(f"/invitations/{platform.tenant.slug}/accept",
                                     params={"token": "not-a-token"})
    assert unknown.status_code == 404
    assert "Linkul invitației nu este valid" in unknown.text  # the tenant's language
    nowhere = await platform.api.get("/invitations/no-such-tenant/accept",
                                     params={"token": "x"})
    assert nowhere.status_code == 404
    assert "belongs to no business" in nowhere.text
