"""What the invitation endpoints accept and answer (separate from the stored rows)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field

InvitedRole = Literal["staff", "customer"]
InvitationStatus = Literal["pending", "accepted", "revoked", "expired"]
MailLocale = Literal["ro", "en"]
# Enough to refuse what is plainly not an address; the realm is the judge of the rest.
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class InvitationCreate(BaseModel):
    email: str = Field(max_length=254, pattern=EMAIL, examples=["ana@example.com"])
    role: InvitedRole
    locale: MailLocale | None = Field(default=None, description="the language of the "
                                      "invitation's mail and page (default: the tenant's)")


class Invitation(BaseModel):
    id: uuid.UUID
    email: str
    role: InvitedRole
    locale: MailLocale
    status: InvitationStatus
    expires_at: dt.datetime
    created_at: dt.datetime
    accepted_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewInvitation(Invitation):
    token: str = Field(description="shown once; only its hash is stored")
    accept_url: str = Field(description="the page where the invitee accepts (what the "
                            "invitation mail links to)")


class InvitationPage(BaseModel):
    items: list[Invitation]
    next_cursor: str | None


class InvitationAccept(BaseModel):
    password: str = Field(min_length=8, max_length=128)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)


class AcceptedInvitation(BaseModel):
    user_id: str = Field(description="the new user's id (their tokens' subject)")
    username: str
    role: InvitedRole
    issuer: str = Field(description="the realm to sign in to")
    locale: MailLocale
    sign_in_url: str = Field(description="the realm's login page, the new user's address "
                             "filled in")
