"""The invitation page a person opens from the invitation mail: `GET` shows the invitation
(never uses it: mail scanners open links) with a form for the name and a password; `POST`
accepts it through the same use case as the JSON endpoint and sends the new user to the
realm's login, their address filled in. A link that is unknown, used, expired or withdrawn
gets a page saying so, in the invitation's language. The tenant is in the path and the token
in the query (request logs carry the path only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from simptu.runtime.api import pages
from simptu.runtime.api.dependencies import PlatformDep
from simptu.runtime.api.invitation_models import InvitationAccept
from simptu.runtime.api.one_time_secrets import invitation_token_hash
from simptu.runtime.api.platform import ApiPlatform
from simptu.runtime.api.problems import ApiProblem
from simptu.runtime.api.routes.invitations import (
    accept_invitation,
    refuse_unusable,
    sign_in_url,
)
from simptu.runtime.api.routing import lookup
from simptu.runtime.core import invitations
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord

router = APIRouter(tags=["invitation pages"], include_in_schema=False)

# The form (and, once used, the way to sign in); refusals are the layout's.
PAGE = pages.page_template("""{% block content %}
{% if form %}
<p>{{ words.intro }}</p>
<form method="post" action="{{ action }}">
<input type="hidden" name="token" value="{{ token }}">
<label for="email">{{ words.email }}</label>
<input id="email" type="email" value="{{ email }}" disabled>
<label for="first_name">{{ words.first_name }}</label>
<input id="first_name" name="first_name" required maxlength="100"
       autocomplete="given-name" value="{{ first_name }}">
<label for="last_name">{{ words.last_name }}</label>
<input id="last_name" name="last_name" required maxlength="100"
       autocomplete="family-name" value="{{ last_name }}">
<label for="password">{{ words.password }}</label>
<input id="password" name="password" type="password" required minlength="8"
       maxlength="128" autocomplete="new-password">
<button type="submit">{{ words.accept }}</button>
</form>
{% endif %}
{% if sign_in_url %}
<p><a class="button" href="{{ sign_in_url }}">{{ words.sign_in }}</a></p>
{% endif %}
{% endblock %}
""")


# Each phrase of the page in English and in Romanian.
PHRASES: dict[str, tuple[str, str]] = {
    "title": ("Accept your invitation", "Acceptați invitația"),
    "intro": (
        "Choose the name you are known by and a password; you sign in with your e-mail "
        "address and this password.",
        "Alegeți numele după care vă cunoaștem și o parolă; vă autentificați cu adresa de "
        "e-mail și această parolă.",
    ),
    "email": ("E-mail address", "Adresa de e-mail"),
    "first_name": ("First name", "Prenume"),
    "last_name": ("Last name", "Nume"),
    "password": ("Password (at least 8 characters)", "Parola (cel puțin 8 caractere)"),
    "accept": ("Accept and sign in", "Acceptă și autentifică-te"),
    "sign_in": ("Sign in", "Autentificare"),
    "unknown-invitation": (
        "This invitation link is not valid: open the whole link from the mail, or ask for a "
        "new invitation.",
        "Linkul invitației nu este valid: deschideți linkul întreg din mesaj sau cereți o "
        "nouă invitație.",
    ),
    "invitation-used": (
        "This invitation was accepted already: sign in with the password you chose.",
        "Invitația a fost deja acceptată: autentificați-vă cu parola aleasă.",
    ),
    "invitation-expired": (
        "This invitation has expired: ask for a new one.",
        "Invitația a expirat: cereți una nouă.",
    ),
    "invitation-revoked": (
        "This invitation was withdrawn: ask for a new one if you still need it.",
        "Invitația a fost retrasă: cereți una nouă dacă mai aveți nevoie de ea.",
    ),
    "user-exists": (
        "There is an account with this address already: sign in with it.",
        "Există deja un cont cu această adresă: autentificați-vă cu el.",
    ),
    "user-refused": (
        "The account could not be made: {detail}",
        "Contul nu a putut fi creat: {detail}",
    ),
    "bad-form": (
        "Fill in every field; the password needs at least 8 characters.",
        "Completați toate câmpurile; parola are cel puțin 8 caractere.",
    ),
}
WORDS = pages.words_of(PHRASES)


def _page(status: int, locale: str, tenant: TenantRecord | None,
          **values: Any) -> HTMLResponse:
    return pages.render_page(PAGE, WORDS, status, locale, tenant, **values)


def _refused(problem: ApiProblem, locale: str, tenant: TenantRecord | None,
             email: str | None = None) -> HTMLResponse:
    signs_in = problem.kind in ("invitation-used", "user-exists") and tenant is not None
    return pages.refused_page(PAGE, WORDS, problem, locale, tenant, sign_in_url=sign_in_url(
        tenant.auth_issuer or "", email or "", locale) if signs_in and tenant else None)


@dataclass(frozen=True)
class Opened:
    """A pending invitation opened by its link: its tenant, row and address."""

    tenant: TenantRecord
    row: asyncpg.Record
    email: str

    @property
    def locale(self) -> str:
        return str(self.row["locale"])


async def _open(platform: ApiPlatform, slug: str, token: str) -> Opened | HTMLResponse:
    """The pending invitation of the link, or the page that says why there is none."""
    tenant = None
    try:
        tenant = await lookup(platform, slug)
        async with TenantUnitOfWork(platform.pool, tenant.names) as conn:
            row = await conn.fetchrow("SELECT * FROM invitations WHERE token_hash = $1",
                                      invitation_token_hash(token))
            if row is None:
                raise ApiProblem(404, "unknown-invitation", "no invitation has this token")
            email = await invitations.email_of(platform.keyring.cipher(tenant.names, conn), row)
    except ApiProblem as problem:
        return _refused(problem, pages.page_locale(tenant), tenant)
    try:
        refuse_unusable(row["status"], invitations.status_of(row, dt.datetime.now(dt.UTC)))
    except ApiProblem as problem:
        return _refused(problem, str(row["locale"]), tenant, email)
    return Opened(tenant, row, email)


@router.get("/invitations/{slug}/accept", name="invitation_page")
async def invitation_page(slug: str, request: Request, platform: PlatformDep,
                          token: pages.LinkPart = "") -> Response:
    """The invitation and its form; nothing changes."""
    opened = await _open(platform, slug, token)
    if isinstance(opened, HTMLResponse):
        return opened
    return _page(200, opened.locale, opened.tenant, form=True, token=token, email=opened.email,
                 action=request.url_for("invitation_page", slug=slug), first_name="",
                 last_name="")


@router.post("/invitations/{slug}/accept")
async def accept_on_page(slug: str, request: Request, platform: PlatformDep) -> Response:
    """Accept with the form's name and password; then on to the realm's login (303)."""
    form = await pages.posted_form(request)
    token = form.pop("token", "")[:100]
    opened = await _open(platform, slug, token)
    if isinstance(opened, HTMLResponse):
        return opened
    tenant, email, locale = opened.tenant, opened.email, opened.locale
    again = {"form": True, "token": token, "email": email, "first_name": form.get(
        "first_name", ""), "last_name": form.get("last_name", ""),
        "action": request.url_for("invitation_page", slug=slug)}
    try:
        person = InvitationAccept.model_validate(form)
    except ValidationError:
        return _page(422, locale, tenant, reason="bad-form", problem=WORDS[locale]["bad-form"],
                     **again)
    try:
        accepted = await accept_invitation(platform, tenant, token, person)
    except ApiProblem as problem:
        if problem.kind == "user-refused":  # e.g. the realm's password policy: try again
            return _page(422, locale, tenant, reason=problem.kind, problem=WORDS[locale][
                "user-refused"].format(detail=problem.detail), **again)
        return _refused(problem, locale, tenant, email)
    return RedirectResponse(accepted.sign_in_url, status_code=303)
