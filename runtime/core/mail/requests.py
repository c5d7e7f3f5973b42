"""A mail asked for by a use case (an access code), outside any table: enqueued on the tenant's
`events` topic in the caller's transaction, so it is sent if and only if what it tells of was
committed. The address and the words are sealed: nothing readable is in the outbox or Kafka."""

from __future__ import annotations

import base64
import json
import uuid

import asyncpg
from pydantic import BaseModel

from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.events import CloudEvent, enqueue
from simptu.runtime.core.mail import MailKind
from simptu.runtime.core.tenancy import TenantNames

MAIL_REQUESTED = "io.simptu.mail.requested"
# The sealing address of a requested mail's recipient and values (no table holds them).
MAILS = "platform_mails"


class MailRequested(BaseModel):
    request_id: uuid.UUID
    kind: MailKind
    locale: str
    to_sealed: str
    values_sealed: str


async def request_mail(conn: asyncpg.Connection, cipher: TenantCipher, tenant: TenantNames,
                       kind: MailKind, to: str, locale: str, values: dict[str, str], *,
                       source: str) -> uuid.UUID:
    """Inside a tenant unit of work: a mail of `kind` to `to`, in `locale`, with the
    template's `values`, once this commits."""
    event = await mail_request(cipher, tenant, kind, to, locale, values, source=source)
    request = MailRequested.model_validate(event.data)
    await enqueue(conn, event, tenant.topic("events"), str(request.request_id))
    return request.request_id


async def mail_request(cipher: TenantCipher, tenant: TenantNames, kind: MailKind, to: str,
                       locale: str, values: dict[str, str], *, source: str) -> CloudEvent:
    """The event asking for the mail, address and values sealed."""
    request_id = uuid.uuid4()

    async def sealed(column: str, value: str) -> str:
        return base64.b64encode(await cipher.seal(MAILS, column, request_id, value)).decode()

    data = MailRequested(request_id=request_id, kind=kind, locale=locale,
                         to_sealed=await sealed("to", to),
                         values_sealed=await sealed("values", json.dumps(values)))
    return CloudEvent(source=source, type=MAIL_REQUESTED, tenantid=tenant.slug,
                      subject=str(request_id), data=data.model_dump(mode="json"))


async def open_request(cipher: TenantCipher,
                       request: MailRequested) -> tuple[str, dict[str, str]]:
    """The recipient and the values of a requested mail."""
    to = await cipher.open_text(MAILS, "to", request.request_id,
                                base64.b64decode(request.to_sealed))
    values = await cipher.open_text(MAILS, "values", request.request_id,
                                    base64.b64decode(request.values_sealed))
    opened: dict[str, str] = json.loads(values)
    return to, opened
