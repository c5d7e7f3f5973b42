"""Invitations: a tenant admin invites a staff member or a customer by e-mail (the mail, in the
invitation's language, links to the page of routes/invitation_pages); the invitee accepts with
the token (single use, expiring) and becomes a user of the tenant's realm with that role, a
customer also a customer of the business with that address and language. Admins list and
revoke them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated
from urllib.parse import urlencode

import asyncpg
from fastapi import APIRouter, Depends, Path, Query, Request

from simptu.runtime.api import access_events
from simptu.runtime.api.auth import ADMIN_ROLES, Caller
from simptu.runtime.api.dependencies import (
    CipherDep,
    PlatformDep,
    TenantDep,
    UnitOfWork,
    role,
)
from simptu.runtime.api.invitation_models import (
    AcceptedInvitation,
    Invitation,
    InvitationAccept,
    InvitationCreate,
    InvitationPage,
    NewInvitation,
)
from simptu.runtime.api.one_time_secrets import invitation_token_hash, new_invitation_token
from simptu.runtime.api.pagination import MAX_PAGE, after_time_and_id, time_and_id_cursor
from simptu.runtime.api.platform import ApiPlatform
from simptu.runtime.api.problems import ApiProblem, problem_responses
from simptu.runtime.api.realm_users import create_invited_user
from simptu.runtime.core import invitations
from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.customers import ensure_customer_with_email
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord

router = APIRouter(prefix="/v1/invitations", tags=["invitations"])
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429, 503)
AdminCaller = Annotated[Caller, Depends(role(*ADMIN_ROLES))]


@router.post("", status_code=201, response_model=NewInvitation, responses=ERRORS)
async def invite(body: InvitationCreate, request: Request, caller: AdminCaller,
                 tenant: TenantDep, platform: PlatformDep, conn: UnitOfWork,
                 cipher: CipherDep) -> NewInvitation:
    """Invite `email` as `role`, in `locale` (default: the tenant's). The token is in this
    answer only (and, sealed, in the `io.simptu.invitation.created` event the platform mailer
    sends); 409 while one is pending."""
    if await invitations.pending_for(conn, cipher, body.email) is not None:
        raise ApiProblem(409, "invitation-pending",
                         "this address has a pending invitation: revoke it to invite again")
    token = new_invitation_token()
    row = await invitations.create(
        conn, cipher, email=body.email, role=body.role, token_hash=invitation_token_hash(token),
        invited_by=caller.subject, ttl=dt.timedelta(seconds=platform.settings.api_invitation_ttl),
        locale=body.locale or ("ro" if tenant.locale.startswith("ro") else "en"))
    # The page a person opens; the token in the query, which request logs leave out.
    accept_url = str(request.url_for("invitation_page", slug=tenant.slug).include_query_params(
        token=token))
    await access_events.invitation_created(conn, tenant, cipher, row, token, accept_url)
    shown = await _shown(cipher, row)
    return NewInvitation(**shown.model_dump(), token=token, accept_url=accept_url)


@router.get("", response_model=InvitationPage, responses=ERRORS)
async def list_invitations(_: AdminCaller, conn: UnitOfWork, cipher: CipherDep,
                           limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
                           cursor: str | None = None) -> InvitationPage:
    """Newest first; `next_cursor` pages on."""
    rows = await invitations.page(conn, after_time_and_id(cursor), limit + 1)
    items = [await _shown(cipher, row) for row in rows[:limit]]
    next_cursor = (time_and_id_cursor(items[-1].created_at, items[-1].id)
                   if len(rows) > limit else None)
    return InvitationPage(items=items, next_cursor=next_cursor)


@router.post("/{invitation_id}/revoke", response_model=Invitation, responses=ERRORS)
async def revoke(invitation_id: uuid.UUID, _: AdminCaller, conn: UnitOfWork,
                 cipher: CipherDep) -> Invitation:
    """A pending invitation can no longer be accepted; 409 for one accepted or revoked."""
    row = await invitations.by_id(conn, invitation_id)
    if row is None:
        raise ApiProblem(404, "unknown-invitation", f"there is no invitation {invitation_id}")
    if row["status"] != "pending":
        raise ApiProblem(409, f"invitation-{row['status']}",
                         f"invitation {invitation_id} is {row['status']} already")
    return await _shown(
        cipher, await invitations.mark(conn, invitation_id, "revoked"))


@router.post("/{token}/accept", name="accept_invitation", status_code=201,
             response_model=AcceptedInvitation, responses=problem_responses(
                 400, 403, 404, 409, 410, 422, 429, 503))
async def accept(token: Annotated[str, Path(max_length=100)], body: InvitationAccept,
                 tenant: TenantDep, platform: PlatformDep) -> AcceptedInvitation:
    """No sign-in needed: the token is the proof. Creates the user in the tenant's realm with
    the invited role; a used token is 409, a revoked or expired one 410, and nothing is made."""
    return await accept_invitation(platform, tenant, token, body)


async def accept_invitation(platform: ApiPlatform, tenant: TenantRecord, token: str,
                            person: InvitationAccept) -> AcceptedInvitation:
    """The one way an invitation is accepted (this endpoint and the invitation page)."""
    async with TenantUnitOfWork(platform.pool, tenant.names) as conn:
        row = await invitations.by_token(conn, invitation_token_hash(token))
        if row is None:
            raise ApiProblem(404, "unknown-invitation", "no invitation has this token")
        refuse_unusable(row["status"], invitations.status_of(row, dt.datetime.now(dt.UTC)))
        cipher = platform.keyring.cipher(tenant.names, conn)
        email = await invitations.email_of(cipher, row)
        # The row stays locked while the realm makes the user: a second accept waits, then
        # finds the invitation used.
        user_id = await create_invited_user(platform, tenant, email, row["role"], person)
        await invitations.mark(conn, row["id"], "accepted", user_id)
        if row["role"] == "customer":  # mails of their bookings reach them, in their language
            await ensure_customer_with_email(conn, cipher, uuid.UUID(user_id), email,
                                             row["locale"])
    return AcceptedInvitation(user_id=user_id, username=email.casefold(), role=row["role"],
                              issuer=tenant.auth_issuer or "", locale=row["locale"],
                              sign_in_url=sign_in_url(tenant.auth_issuer or "", email,
                                                      row["locale"]))


def sign_in_url(issuer: str, email: str, locale: str) -> str:
    """The realm's own login for its account console (a public client every realm has, with
    no PKCE required), the new user's address filled in."""
    query = urlencode({"client_id": "account", "redirect_uri": f"{issuer}/account/",
                       "response_type": "code", "scope": "openid", "login_hint": email,
                       "ui_locales": locale})
    return f"{issuer}/protocol/openid-connect/auth?{query}"


async def _shown(cipher: TenantCipher, row: asyncpg.Record) -> Invitation:
    """The invitation as answered, its e-mail opened."""
    return Invitation.model_validate({
        **dict(row), "email": await invitations.email_of(cipher, row),
        "status": invitations.status_of(row, dt.datetime.now(dt.UTC))})


def refuse_unusable(stored: str, shown: str) -> None:
    if stored == "accepted":
        raise ApiProblem(409, "invitation-used", "this invitation was accepted already")
    if shown in ("revoked", "expired"):
        raise ApiProblem(410, f"invitation-{shown}", f"this invitation is {shown}")
