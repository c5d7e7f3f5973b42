"""`GET /v1/chat/sessions/{id}/deliveries`: what became of each reply sent to the customer on
a messaging channel (sent, delivered, read, or refused and failed with the provider's reason),
so staff see a reply that never reached the customer instead of assuming it did."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from simptu.runtime.api.auth import Caller
from simptu.runtime.api.dependencies import UnitOfWork, role
from simptu.runtime.api.problems import problem_responses
from simptu.runtime.core.channels import deliveries
from simptu.runtime.core.chat.actions import visible_session

router = APIRouter(prefix="/v1/chat/sessions", tags=["chat"])
Staff = Annotated[Caller, Depends(role("platform-admin", "tenant-admin", "staff"))]


class Delivery(BaseModel):
    message_id: uuid.UUID
    part: int
    channel: str
    status: str
    provider_message_id: str | None
    error_code: str | None
    error_detail: str | None
    attempts: int
    created_at: dt.datetime
    updated_at: dt.datetime


class Deliveries(BaseModel):
    items: list[Delivery]


@router.get("/{session_id}/deliveries", response_model=Deliveries,
            responses=problem_responses(401, 403, 404))
async def list_deliveries(session_id: uuid.UUID, caller: Staff,
                          conn: UnitOfWork) -> Deliveries:
    """Each part of each message sent on the conversation's channel, oldest first."""
    await visible_session(conn, caller, session_id)
    rows = await deliveries.of_session(conn, session_id)
    return Deliveries(items=[Delivery.model_validate(dict(row)) for row in rows])
