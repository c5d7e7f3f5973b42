"""`POST /v1/chat/guest`: a website visitor gets a short-lived guest token for one new chat
session of the tenant, from an origin the tenant allows, within the rate limit."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from simptu.runtime.api.dependencies import PlatformDep
from simptu.runtime.api.metrics import GUEST_TOKENS
from simptu.runtime.api.problems import ApiProblem, problem_responses
from simptu.runtime.api.routing import claimed_tenant, client_address, lookup, within_limit
from simptu.runtime.core.chat import events as chat_events
from simptu.runtime.core.chat import store as chat_store
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.guest_tokens import issue_guest_token

router = APIRouter(prefix="/v1/chat", tags=["chat"])


class GuestRequest(BaseModel):
    locale: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$",
                        examples=["ro", "en-GB"])


class GuestToken(BaseModel):
    token: str
    session_id: uuid.UUID
    expires_at: dt.datetime


def _refuse(status: int, kind: str, detail: str) -> ApiProblem:
    GUEST_TOKENS.labels(kind).inc()
    return ApiProblem(status, kind, detail)


@router.post("/guest", status_code=201, response_model=GuestToken,
             responses=problem_responses(400, 403, 404, 422, 429, 503))
async def create_guest_session(body: GuestRequest, request: Request,
                               platform: PlatformDep) -> GuestToken:
    """A guest token for a new web chat session of the tenant named by host or
    `X-Simptu-Tenant`, for a page on one of the tenant's allowed origins."""
    slug = claimed_tenant(request, platform.settings.api_base_domain)
    if slug is None:
        raise _refuse(400, "no-tenant", "name the tenant by host or X-Simptu-Tenant")
    tenant = await lookup(platform, slug)
    origin = request.headers.get("origin")
    if origin not in tenant.web_origins:
        raise _refuse(403, "origin-not-allowed",
                      f"tenant {slug!r} does not allow guest chats from origin {origin!r}")
    try:
        await within_limit(platform.guest_limiter, tenant, client_address(request),
                           "guest sessions")
    except ApiProblem as refused:
        GUEST_TOKENS.labels(refused.kind).inc()
        raise
    session_id = uuid.uuid4()
    async with TenantUnitOfWork(platform.pool, tenant.names) as conn:
        session = await chat_store.create_session(conn, session_id, channel="web",
                                                  locale=body.locale, guest=True)
        await chat_events.session_changed(conn, tenant, session, "opened")
    token, claims = issue_guest_token(
        platform.settings.guest_token_secret.get_secret_value(), tenant.slug, session_id,
        dt.timedelta(seconds=platform.settings.api_guest_token_ttl))
    GUEST_TOKENS.labels("issued").inc()
    return GuestToken(token=token, session_id=session_id, expires_at=claims.expires_at)
