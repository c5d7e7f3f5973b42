"""The platform's own mails against the running stack: its API (invitations, bookings, access
codes) on a demo tenant, its channel senders' mailer, the real Postfix and Dovecot (mailboxes
read over IMAP, tests/mailboxes.py) and the tenant's real Keycloak realm, whose login form the
tests fill in as a browser would."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest

from simptu.devstack.demo_tokens import demo_token
from simptu.devstack.envfile import StackEnv
from simptu.operator.keycloak import WEB_CLIENT
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.tenancy import TenantNames
from tests.mailboxes import read_mailbox, wait_for_mail

CLINIC = "zambet-dental-cluj"  # a demo tenant: Romanian by default
PASSWORD = "a long Passw0rd!"
LINK = re.compile(r"https?://\S+/invitations/[a-z0-9-]+/accept\?token=[A-Za-z0-9_-]+")


def new_address(who: str = "invitee") -> str:
    return f"{who}-{uuid.uuid4().hex[:12]}@customers.test"


def link_in(mail: EmailMessage) -> str:
    """The invitation link of a mail, the same in its text and its HTML."""
    text, page = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None
    assert page is not None
    [link] = [str(found) for found in LINK.findall(text.get_content())]
    assert html.escape(link) in page.get_content()
    return link


def login_form_action(page: str) -> str:
    """Where Keycloak's login form posts (the form of the realm's login page)."""
    match = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page)
    assert match, "a Keycloak login form"
    return html.unescape(str(match[1]))


@dataclass
class Platform:
    stack: StackEnv
    api: httpx.AsyncClient  # the stack's API, as a browser or a client reaches it
    db: asyncpg.Pool
    key_ring: KeyRing
    tenant: TenantNames

    @property
    def issuer(self) -> str:
        return f"{self.stack['SIMPTU_KEYCLOAK_URL']}/realms/{self.tenant.slug}"

    async def headers(self, user: str = "admin") -> dict[str, str]:
        """A demo user's request to the tenant."""
        token = (await demo_token(self.api, self.issuer, user))["access_token"]
        return {"Authorization": f"Bearer {token}", "X-Simptu-Tenant": self.tenant.slug}

    async def invite(self, email: str, role: str = "customer",
                     locale: str | None = None) -> dict[str, Any]:
        body = {"email": email, "role": role} | ({"locale": locale} if locale else {})
        made = await self.api.post("/v1/invitations", json=body, headers=await self.headers())
        assert made.status_code == 201, made.text
        invitation: dict[str, Any] = made.json()
        return invitation

    async def customer(self, locale: str) -> tuple[str, dict[str, str]]:
        """A customer of the tenant with an e-mail address and a language (made by an
        accepted invitation) and the headers of their own requests."""
        email = new_address("customer")
        invitation = await self.invite(email, "customer", locale)
        accepted = await self.api.post(
            f"/v1/invitations/{invitation['token']}/accept",
            json={"password": PASSWORD, "first_name": "Ana", "last_name": "Pop"},
            headers={"X-Simptu-Tenant": self.tenant.slug})
        assert accepted.status_code == 201, accepted.text
        token = await self.api.post(f"{self.issuer}/protocol/openid-connect/token", data={
            "grant_type": "password", "client_id": WEB_CLIENT, "username": email,
            "password": PASSWORD})
        assert token.status_code == 200, token.text
        return email, {"Authorization": f"Bearer {token.json()['access_token']}",
                       "X-Simptu-Tenant": self.tenant.slug}

    async def mail(self, address: str, subject_has: str) -> EmailMessage:
        return await wait_for_mail(self.stack, address,
                                   lambda mail: subject_has in str(mail["Subject"]))

    def mailbox(self, address: str) -> list[EmailMessage]:
        return read_mailbox(self.stack, address)


async def sign_in(http: httpx.AsyncClient, sign_in_url: str, email: str,
                  password: str) -> dict[str, Any]:
    """Through the realm's real login form, as a browser: the login page (its username filled
    in from the link), the credentials posted, the code it redirects with exchanged; the
    signed-in user's claims from the realm's userinfo."""
    page = await http.get(sign_in_url)
    assert page.status_code == 200, page.text
    assert email in page.text  # login_hint filled the username in
    # Keycloak's cookies are Secure; a browser sends them to 127.0.0.1 over http (a secure
    # context), httpx does not: they are sent back by hand.
    cookies = "; ".join(header.split(";")[0] for header in page.headers.get_list("set-cookie"))
    signed = await http.post(login_form_action(page.text), headers={"Cookie": cookies},
                             data={"username": email, "password": password})
    assert signed.status_code == 302, signed.text
    back = urlsplit(signed.headers["location"])
    [code] = parse_qs(back.query)["code"]
    query = parse_qs(urlsplit(sign_in_url).query)
    tokens = await http.post(sign_in_url.split("/auth?")[0] + "/token", data={
        "grant_type": "authorization_code", "code": code,
        "client_id": query["client_id"][0], "redirect_uri": query["redirect_uri"][0]})
    assert tokens.status_code == 200, tokens.text
    who = await http.get(sign_in_url.split("/auth?")[0] + "/userinfo", headers={
        "Authorization": f"Bearer {tokens.json()['access_token']}"})
    assert who.status_code == 200, who.text
    claims: dict[str, Any] = who.json()
    return claims


@pytest.fixture
async def platform(stack: StackEnv, db: asyncpg.Pool,
                   key_ring: KeyRing) -> AsyncIterator[Platform]:
    async with httpx.AsyncClient(base_url=stack["SIMPTU_API_URL"], timeout=30) as api:
        yield Platform(stack, api, db, key_ring, TenantNames(CLINIC))
