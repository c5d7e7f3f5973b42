"""The rating page a customer opens from the rating request mailed after a completed booking:
no sign-in, the link's proof (core/mail/rating_links) is the customer's right to rate that
booking. `GET` shows the form (a score 1 to 5, a comment); `POST` records the rating once, as
`POST /v1/ratings` would for the customer. A made-up, altered or expired link, or a booking
rated already, gets a page that says so, in the customer's language."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field, ValidationError

from simptu.runtime.api import pages
from simptu.runtime.api.dependencies import PlatformDep
from simptu.runtime.api.platform import ApiPlatform
from simptu.runtime.api.problems import ApiProblem
from simptu.runtime.api.routing import lookup
from simptu.runtime.core import ratings
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.mail.rating_links import proof_holds
from simptu.runtime.core.registry import TenantRecord

router = APIRouter(tags=["rating pages"], include_in_schema=False)

PAGE = pages.page_template("""{% block content %}
{% if form %}
<p>{{ words.intro }} <strong>{{ service }}</strong></p>
<form method="post" action="{{ action }}">
<input type="hidden" name="booking" value="{{ booking }}">
<input type="hidden" name="proof" value="{{ proof }}">
<label for="score">{{ words.score }}</label>
<select id="score" name="score" required>
{% for score in range(5, 0, -1) %}<option value="{{ score }}">{{ score }}</option>{% endfor %}
</select>
<label for="comment">{{ words.comment }}</label>
<textarea id="comment" name="comment" maxlength="2000" rows="4"></textarea>
<button type="submit">{{ words.send }}</button>
</form>
{% endif %}
{% if thanks %}<p role="status">{{ words.thanks }}</p>{% endif %}
{% endblock %}
""")
PHRASES: dict[str, tuple[str, str]] = {
    "title": ("Rate your visit", "Acordați o notă vizitei"),
    "intro": ("How was it? From 1 (poor) to 5 (excellent):",
              "Cum a fost? De la 1 (slab) la 5 (excelent):"),
    "score": ("Your score", "Nota dumneavoastră"),
    "comment": ("A comment (optional)", "Un comentariu (opțional)"),
    "send": ("Send", "Trimite"),
    "thanks": ("Thank you: your rating was recorded.",
               "Vă mulțumim: nota a fost înregistrată."),
    "unknown-link": ("This rating link is not valid: open the whole link from the mail.",
                     "Linkul nu este valid: deschideți linkul întreg din mesaj."),
    "link-expired": ("This rating link has expired.", "Linkul pentru notă a expirat."),
    "already-rated": ("This visit was rated already: thank you!",
                      "Această vizită a primit deja o notă: vă mulțumim!"),
    "bad-form": ("Choose a score from 1 to 5.", "Alegeți o notă de la 1 la 5."),
}
WORDS = pages.words_of(PHRASES)
UNKNOWN = ApiProblem(404, "unknown-link", "no rating link is like this one")


class RatingForm(BaseModel):
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


def _locale(row: asyncpg.Record) -> str:
    """The customer's language (the page's)."""
    return "ro" if str(row["locale"]).startswith("ro") else "en"


async def _booking(platform: ApiPlatform, slug: str, booking: str,
                   proof: str) -> tuple[TenantRecord, asyncpg.Record] | HTMLResponse:
    """The completed booking the link is for, with its customer's language and whether it is
    rated; or the page that says why not."""
    tenant = None
    try:
        tenant = await lookup(platform, slug)
        booking_id = uuid.UUID(booking)
        async with TenantUnitOfWork(platform.pool, tenant.names) as conn:
            holds = await proof_holds(platform.keyring.cipher(tenant.names, conn), booking_id,
                                      proof, dt.datetime.now(dt.UTC))
            row = await conn.fetchrow(
                "SELECT b.id, b.service_id, b.resource_id, b.customer_id, b.status, c.locale, "
                "COALESCE(sv.names ->> left(c.locale, 2), sv.name) AS service, "
                "EXISTS (SELECT 1 FROM ratings WHERE booking_id = b.id) AS rated "
                "FROM bookings b JOIN customers c ON c.id = b.customer_id "
                "JOIN services sv ON sv.id = b.service_id WHERE b.id = $1", booking_id)
        if holds is None or row is None or row["status"] != "completed":
            raise UNKNOWN
    except ValueError:  # not a booking id
        return pages.refused_page(PAGE, WORDS, UNKNOWN, pages.page_locale(tenant), tenant)
    except ApiProblem as problem:
        return pages.refused_page(PAGE, WORDS, problem, pages.page_locale(tenant), tenant)
    locale = _locale(row)
    if not holds:
        return pages.refused_page(PAGE, WORDS, ApiProblem(410, "link-expired", "expired"), locale,
                            tenant)
    if row["rated"]:
        return pages.refused_page(PAGE, WORDS, ApiProblem(409, "already-rated", "rated"), locale,
                            tenant)
    return tenant, row


@router.get("/ratings/{slug}/rate", name="rating_page")
async def rating_page(slug: str, request: Request, platform: PlatformDep,
                      booking: pages.LinkPart = "", proof: pages.LinkPart = "") -> Response:
    """The form; nothing changes."""
    found = await _booking(platform, slug, booking, proof)
    if isinstance(found, HTMLResponse):
        return found
    tenant, row = found
    return _form(200, request, tenant, row, booking, proof)


def _form(status: int, request: Request, tenant: TenantRecord, row: asyncpg.Record,
          booking: str, proof: str, **values: Any) -> HTMLResponse:
    return pages.render_page(PAGE, WORDS, status, _locale(row), tenant, form=True, booking=booking,
                       proof=proof, service=row["service"],
                       action=request.url_for("rating_page", slug=tenant.slug), **values)


@router.post("/ratings/{slug}/rate")
async def rate_on_page(slug: str, request: Request, platform: PlatformDep) -> Response:
    """Record the rating once, as the booking's customer; a thank-you page."""
    form = await pages.posted_form(request)
    booking, proof = form.pop("booking", "")[:100], form.pop("proof", "")[:100]
    found = await _booking(platform, slug, booking, proof)
    if isinstance(found, HTMLResponse):
        return found
    tenant, row = found
    try:
        rating = RatingForm.model_validate({**form, "comment": form.get("comment") or None})
    except ValidationError:
        return _form(422, request, tenant, row, booking, proof, reason="bad-form",
                     problem=WORDS[_locale(row)]["bad-form"])
    async with TenantUnitOfWork(platform.pool, tenant.names) as conn:
        added = await ratings.add(
            conn, platform.keyring.cipher(tenant.names, conn), subject=str(row["customer_id"]),
            score=rating.score, comment=rating.comment, booking_id=row["id"],
            service_id=row["service_id"], resource_id=row["resource_id"])
    locale = _locale(row)
    if added is None:  # rated meanwhile (a second tab)
        return pages.refused_page(PAGE, WORDS, ApiProblem(409, "already-rated", "rated"), locale,
                            tenant)
    return pages.render_page(PAGE, WORDS, 201, locale, tenant, thanks=True)
