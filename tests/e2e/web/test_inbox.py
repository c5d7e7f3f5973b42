"""The staff inbox in a real browser against the running stack: a receptionist of a demo clinic
(a Keycloak user of its realm made for the test) signs in on Keycloak's own login form, sees a
widget visitor's request for a person arrive with an unread count, takes over, replies (the
widget shows it live), hands back and closes, then signs out back onto the inbox; a customer's
account gets a clear refusal; axe-core finds no WCAG 2.2 AA violations, light or dark."""

from __future__ import annotations

import datetime as dt
import random
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, Page, expect

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRegistry
from tests.e2e.web.conftest import CLINIC, AxeViolations, Visitor

# Generous: the hub, the agent and the outbox relay share two loaded cores with other tests.
WAIT = 60_000

# Marks the stored sign-in (oidc-client-ts's sessionStorage entry) expired; returns it.
RENEW = """key => {
  const user = JSON.parse(sessionStorage.getItem(key));
  user.expires_at = Math.floor(Date.now() / 1000) - 30;
  sessionStorage.setItem(key, JSON.stringify(user));
  return user;
}"""

NewUser = Callable[[str], Awaitable[tuple[str, str]]]


@pytest.fixture
async def realm_user(keycloak_admin: httpx.AsyncClient) -> AsyncIterator[NewUser]:
    """Makes users of the demo clinic's realm with one realm role (username, password); they
    are deleted afterwards."""
    made: list[str] = []

    async def make(role: str) -> tuple[str, str]:
        username = f"{role}-{uuid.uuid4().hex[:10]}"
        password = secrets.token_urlsafe(18)
        created = await keycloak_admin.post(f"/admin/realms/{CLINIC}/users", json={
            "username": username, "enabled": True, "emailVerified": True,
            "email": f"{username}@{CLINIC}.test.simptu.local", "firstName": role.capitalize(),
            "lastName": "Test",
            "credentials": [{"type": "password", "value": password, "temporary": False}]})
        assert created.status_code == 201, created.text
        user_id = created.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
        made.append(user_id)
        found = await keycloak_admin.get(f"/admin/realms/{CLINIC}/roles/{role}")
        assert found.status_code == 200, found.text
        mapped = await keycloak_admin.post(
            f"/admin/realms/{CLINIC}/users/{user_id}/role-mappings/realm", json=[found.json()])
        assert mapped.status_code == 204, mapped.text
        return username, password

    yield make
    for user_id in made:
        await keycloak_admin.delete(f"/admin/realms/{CLINIC}/users/{user_id}")


async def sign_in(browser: Browser, stack: StackEnv, username: str, password: str,
                  **context: Any) -> Page:
    """A new browser context opens the clinic's inbox and signs in on Keycloak's login form
    (the page's Content-Security-Policy is bypassed only so axe-core can be injected)."""
    page = await (await browser.new_context(bypass_csp=True, **context)).new_page()
    await page.goto(f"{stack['SIMPTU_API_URL']}/inbox/{CLINIC}")
    await page.locator("#username").wait_for(timeout=WAIT)  # Keycloak's own page
    await page.locator("#username").fill(username)
    await page.locator("#password").fill(password)
    await page.locator("#kc-login").click()
    return page


async def test_a_receptionist_answers_a_hand_off_from_the_widget(
        browser: Browser, stack: StackEnv, realm_user: NewUser,
        visitor: Callable[..., Awaitable[Visitor]], axe_violations: AxeViolations) -> None:
    username, password = await realm_user("staff")
    inbox = await sign_in(browser, stack, username, password)
    await expect(inbox.get_by_role("status").first).to_have_text("Connected", timeout=WAIT)
    await expect(inbox.locator(".presence")).to_contain_text("Staff online:", timeout=WAIT)
    assert await axe_violations(inbox) == []

    chat = await visitor(CLINIC, locale="ro-RO")
    await chat.open_chat()
    await chat.say("Vreau să vorbesc cu un om, vă rog")
    session_id = await chat.session_id()
    assert session_id is not None

    # The hand-off arrives live, waiting for staff, with the visitor's message unread.
    item = inbox.locator(f'button.item[data-session="{session_id}"]')
    await expect(item).to_have_attribute("data-group", "waiting", timeout=WAIT)
    await expect(item.locator(".badge.unread")).to_have_text("1", timeout=WAIT)
    await expect(item.locator(".badge.channel")).to_have_text("web")

    await item.click()
    title = inbox.locator("#conversation-title")
    await expect(title).to_contain_text("waiting for staff")
    await expect(inbox.get_by_role("log")).to_contain_text("vorbesc cu un om", timeout=WAIT)
    await expect(item.locator(".badge.unread")).to_have_count(0)
    await inbox.get_by_role("button", name="Take over", exact=True).click()
    await expect(title).to_contain_text("with you", timeout=WAIT)
    await expect(item).to_have_attribute("data-group", "with-staff")

    # Staff presence: a colleague opening the same conversation is seen there.
    colleague = await sign_in(browser, stack, *await realm_user("staff"))
    await colleague.locator("#app[data-state=live]").wait_for(timeout=WAIT)
    await expect(colleague.locator(".presence")).to_have_text(
        re.compile(r"Staff online: ([2-9]|[1-9][0-9]+)$"), timeout=WAIT)
    await colleague.locator(f'button.item[data-session="{session_id}"]').click()
    await expect(inbox.locator(".viewers")).to_have_text(
        "Another staff member has this conversation open.", timeout=WAIT)
    await expect(colleague.locator("#conversation-title")).to_contain_text("with staff")
    await colleague.context.close()
    await expect(inbox.locator(".viewers")).to_have_count(0, timeout=WAIT)

    # The receptionist's reply reaches the widget live; the visitor's answer reaches the inbox.
    reply = f"Bună ziua, sunt de la recepție ({uuid.uuid4().hex[:6]}). Cu ce vă pot ajuta?"
    await inbox.get_by_label("Reply", exact=True).fill(reply)
    await inbox.get_by_role("button", name="Send", exact=True).click()
    await chat.page.locator("simptu-chat .msg.staff").filter(has_text=reply).wait_for(
        timeout=WAIT)
    await chat.page.locator("simptu-chat textarea").fill("Mulțumesc, am o întrebare despre preț.")
    await chat.page.locator("simptu-chat textarea").press("Enter")
    await expect(inbox.get_by_role("log")).to_contain_text("întrebare despre preț",
                                                          timeout=WAIT)
    assert await axe_violations(inbox) == []
    await inbox.emulate_media(color_scheme="dark")
    assert await axe_violations(inbox) == []
    await inbox.emulate_media(color_scheme="light")

    await inbox.get_by_role("button", name="Hand back to the assistant").click()
    await expect(title).to_contain_text("with the assistant", timeout=WAIT)
    await expect(item).to_have_attribute("data-group", "open")
    await inbox.get_by_role("button", name="Close", exact=True).click()
    await expect(title).to_contain_text("closed", timeout=WAIT)
    await expect(item).to_have_attribute("data-group", "closed")

    # Silent renew: with the access token expired, a reload renews it with the refresh token
    # (no login form) and the list is live again.
    key = f"oidc.user:{stack['SIMPTU_KEYCLOAK_URL']}/realms/{CLINIC}:simptu-web"
    expired = await inbox.evaluate(RENEW, key)
    await inbox.reload()
    await inbox.locator("#app[data-state=live]").wait_for(timeout=WAIT)
    renewed = await inbox.evaluate("key => JSON.parse(sessionStorage.getItem(key))", key)
    assert renewed["access_token"] != expired["access_token"]
    assert renewed["expires_at"] > expired["expires_at"]

    # Signing out ends the Keycloak session and lands back on the inbox, not on Keycloak.
    await inbox.get_by_role("button", name="Sign out").click()
    await expect(inbox.get_by_role("heading", name="Signed out")).to_be_visible(timeout=WAIT)
    assert inbox.url.startswith(f"{stack['SIMPTU_API_URL']}/inbox/{CLINIC}")
    await inbox.get_by_role("button", name="Sign in").click()
    await inbox.locator("#username").wait_for(timeout=WAIT)  # signed out for real
    await inbox.context.close()


async def test_a_customer_account_is_told_the_inbox_is_for_staff(
        browser: Browser, stack: StackEnv, realm_user: NewUser,
        axe_violations: AxeViolations) -> None:
    username, password = await realm_user("customer")
    page = await sign_in(browser, stack, username, password, color_scheme="dark")
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("is not on the staff", timeout=WAIT)
    await expect(page.get_by_role("heading", name="No access to the inbox")).to_be_visible()
    assert await page.locator("nav").count() == 0  # no conversations, not even a list
    assert await axe_violations(page) == []
    await page.context.close()


async def test_the_inbox_page_and_its_assets_are_cached_as_built(stack: StackEnv) -> None:
    """The page is never cached (it names the current build); its assets are content-hashed
    and cached for a year; an unknown tenant's inbox is a 404, not an empty app."""
    async with httpx.AsyncClient(base_url=stack["SIMPTU_API_URL"], timeout=30) as http:
        page = await http.get(f"/inbox/{CLINIC}")
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assets = [part.split('"')[0] for part in page.text.split('/inbox/assets/')[1:]]
        assert {name.rsplit(".", 1)[-1] for name in assets} == {"js", "css"}
        for name in assets:
            asset = await http.get(f"/inbox/assets/{name}")
            assert asset.status_code == 200
            assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert (await http.get("/inbox/assets/main-0000000000.js")).status_code == 404
        assert (await http.get(f"/inbox/no-such-{uuid.uuid4().hex[:8]}")).status_code == 404


async def password_token(stack: StackEnv, username: str, password: str) -> str:
    """An access token of a user of the demo clinic's realm (its web client allows the password
    grant on local stacks)."""
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(
            f"{stack['SIMPTU_KEYCLOAK_URL']}/realms/{CLINIC}/protocol/openid-connect/token",
            data={"grant_type": "password", "client_id": "simptu-web", "username": username,
                  "password": password})
        answer.raise_for_status()
        return str(answer.json()["access_token"])


async def test_the_customer_s_bookings_are_beside_the_conversation(
        browser: Browser, stack: StackEnv, realm_user: NewUser, db: asyncpg.Pool,
        redis_client: aioredis.Redis) -> None:
    """A customer books (a random day, so concurrent runs do not collide); a receptionist opens
    a conversation with them and takes it; the inbox shows that booking beside it."""
    customer_token = await password_token(stack, *await realm_user("customer"))
    receptionist = await realm_user("staff")
    staff_token = await password_token(stack, *receptionist)
    api = httpx.AsyncClient(base_url=stack["SIMPTU_API_URL"], timeout=30)
    as_customer = {"Authorization": f"Bearer {customer_token}"}
    as_staff = {"Authorization": f"Bearer {staff_token}"}
    session_id: str | None = None
    booking_id: str | None = None
    try:
        services = (await api.get("/v1/services", headers=as_customer)).json()["items"]
        service = next(item for item in services if item.get("kind", "appointment")
                       == "appointment")
        day = dt.date.today() + dt.timedelta(days=random.randint(30, 300))  # noqa: S311
        slots = (await api.get("/v1/availability", headers=as_customer, params={
            "service_id": service["id"], "from": day.isoformat(),
            "to": (day + dt.timedelta(days=14)).isoformat()})).json()["items"]
        booked = None
        for slot in random.sample(slots, min(len(slots), 10)):
            answer = await api.post("/v1/bookings", headers=as_customer, json={
                "service_id": slot["service_id"], "resource_id": slot["resource_id"],
                "start": slot["start"]})
            if answer.status_code == 201:
                booked = answer.json()
                break
            assert answer.status_code == 409, answer.text  # taken meanwhile: another slot
        assert booked is not None, "no free slot could be booked"
        booking_id = booked["id"]
        customer_id = booked["customer_id"]
        opened = await api.post("/v1/chat/sessions", headers=as_staff,
                                json={"customer_id": customer_id, "locale": "ro"})
        assert opened.status_code == 201, opened.text
        session_id = opened.json()["id"]
        handed = await api.post(f"/v1/chat/sessions/{session_id}/handoff", headers=as_staff,
                                json={})
        assert handed.status_code == 200, handed.text

        inbox = await sign_in(browser, stack, *receptionist)
        item = inbox.locator(f'button.item[data-session="{session_id}"]')
        await expect(item).to_have_attribute("data-group", "with-staff", timeout=WAIT)
        await item.click()
        await expect(inbox.locator("#conversation-title")).to_contain_text("with you")
        bookings = inbox.locator("aside .bookings li")
        await expect(bookings).to_have_count(1, timeout=WAIT)
        await expect(bookings.first).to_contain_text(service["name"])
        await expect(bookings.first).to_contain_text(booked["status"])
        await inbox.context.close()
    finally:
        await api.aclose()
        tenant = await TenantRegistry(db, redis_client).require_ready(CLINIC)
        async with TenantUnitOfWork(db, tenant.names) as conn:
            if session_id is not None:
                await conn.execute("DELETE FROM chat_sessions WHERE id = $1",
                                   uuid.UUID(session_id))
            if booking_id is not None:
                customer = await conn.fetchval(
                    "DELETE FROM bookings WHERE id = $1 RETURNING customer_id",
                    uuid.UUID(booking_id))
                await conn.execute("DELETE FROM customers WHERE id = $1", customer)
