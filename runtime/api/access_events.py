"""The events invitations produce, through the transactional outbox on the tenant's `events`
topic. E-mail delivery is another component's job: the event carries the address and the token
sealed (base64, bound to the invitation's row), so only a holder of the tenant's key can send
the invitation, and nothing is in clear in the outbox or on Kafka."""

from __future__ import annotations

import base64
import uuid

import asyncpg

from simptu.runtime.core.chat.events import API_SOURCE, current_traceparent
from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.events import CloudEvent, enqueue
from simptu.runtime.core.invitations import INVITATIONS
from simptu.runtime.core.registry import TenantRecord


async def invitation_created(conn: asyncpg.Connection, tenant: TenantRecord,
                             cipher: TenantCipher, invitation: asyncpg.Record, token: str,
                             accept_url: str) -> None:
    invitation_id: uuid.UUID = invitation["id"]
    sealed_token = await cipher.seal(INVITATIONS, "token", invitation_id, token)
    event = CloudEvent(
        source=API_SOURCE, type="io.simptu.invitation.created", tenantid=tenant.slug,
        subject=str(invitation_id), traceparent=current_traceparent(),
        data={"invitation_id": str(invitation_id), "role": invitation["role"],
              "expires_at": invitation["expires_at"].isoformat(),
              "email_sealed": base64.b64encode(invitation["email"]).decode(),
              "token_sealed": base64.b64encode(sealed_token).decode(),
              # Without the token: the mailer puts the opened token where it belongs.
              "accept_path": accept_url.replace(token, "{token}")})
    await enqueue(conn, event, tenant.names.topic("events"), str(invitation_id))
