"""`GET /v1/mails`: what became of the platform's own mails to the tenant's people
(invitations, access codes, booking mails): sent, or failed with the relay's reason, or
uncertain (the mailer stopped while handing one over), so admins see a mail that never left
instead of assuming it did. Addresses and contents are not kept, only the record."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from simptu.runtime.api.auth import ADMIN_ROLES, Caller
from simptu.runtime.api.dependencies import UnitOfWork, role
from simptu.runtime.api.pagination import MAX_PAGE
from simptu.runtime.api.problems import problem_responses
from simptu.runtime.core.mail import MailKind, records

router = APIRouter(prefix="/v1/mails", tags=["mails"])
Admin = Annotated[Caller, Depends(role(*ADMIN_ROLES))]
MailStatus = Literal["pending", "sending", "uncertain", "sent", "failed"]


class PlatformMail(BaseModel):
    event_id: str
    kind: MailKind
    status: MailStatus
    message_id: str
    attempts: int
    error_code: str | None
    error_detail: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class PlatformMails(BaseModel):
    items: list[PlatformMail]


@router.get("", response_model=PlatformMails, responses=problem_responses(401, 403, 422))
async def list_mails(_: Admin, conn: UnitOfWork, status: MailStatus | None = None,
                     limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50) -> PlatformMails:
    """The newest first; `status=failed` (or `uncertain`) shows what did not surely leave."""
    rows = await records.recent(conn, status, limit)
    return PlatformMails(items=[PlatformMail.model_validate(dict(row)) for row in rows])
