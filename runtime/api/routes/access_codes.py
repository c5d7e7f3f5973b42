"""Customer access codes: staff issue a one-time code for a customer; the customer, with no
account, redeems it for a short-lived token that reads their bookings and conversations.
Redemption is rate-limited per tenant and address, and each code dies after a few wrong
guesses, after its first use, or when it expires."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Request

from simptu.runtime.api.access_code_models import (
    AccessCodeRedeem,
    AccessCodeRequest,
    AccessCodeRequested,
    CustomerAccess,
    NewAccessCode,
)
from simptu.runtime.api.auth import STAFF_ROLES, Caller
from simptu.runtime.api.dependencies import CipherDep, PlatformDep, TenantDep, UnitOfWork, role
from simptu.runtime.api.one_time_secrets import new_access_code
from simptu.runtime.api.problems import ApiProblem, problem_responses
from simptu.runtime.api.routing import client_address, within_limit
from simptu.runtime.api.settings import ApiSettings
from simptu.runtime.core import access_codes
from simptu.runtime.core.channels.texts import request_text
from simptu.runtime.core.chat.events import API_SOURCE
from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.customer_tokens import issue_customer_token
from simptu.runtime.core.customers import customer_exists
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.mail.requests import request_mail
from simptu.runtime.core.registry import TenantRecord

router = APIRouter(prefix="/v1", tags=["access codes"])
StaffCaller = Annotated[Caller, Depends(role(*STAFF_ROLES))]
# Refusals of a redemption; a wrong code and an unknown customer look the same.
REFUSALS: dict[str, tuple[int, str, str]] = {
    "wrong": (404, "invalid-code", "no live access code matches this customer and code"),
    "used": (409, "code-used", "this access code was used already"),
    "expired": (410, "code-expired", "this access code has expired"),
    "locked": (410, "code-locked", "this access code had too many wrong attempts"),
}


@router.post("/customers/{customer_id}/access-codes", status_code=201,
             response_model=NewAccessCode,
             responses=problem_responses(400, 401, 403, 404, 422, 429, 503))
async def issue_access_code(customer_id: uuid.UUID, caller: StaffCaller, platform: PlatformDep,
                            conn: UnitOfWork, cipher: CipherDep) -> NewAccessCode:
    """A one-time code for the customer, shown in this answer only."""
    if not await customer_exists(conn, customer_id):
        raise ApiProblem(404, "unknown-customer", f"there is no customer {customer_id}")
    code = new_access_code()
    settings = platform.settings
    row = await access_codes.issue(
        conn, cipher, customer_id, code, issued_by=caller.subject,
        ttl=dt.timedelta(seconds=settings.api_access_code_ttl),
        max_attempts=settings.api_access_code_attempts)
    return NewAccessCode(id=row["id"], customer_id=customer_id, code=code,
                         expires_at=row["expires_at"], max_attempts=row["max_attempts"])


CODE_TEXT = {"ro": "Codul dumneavoastră de acces la {name}: {code}. Este valabil {hours} ore.",
             "en": "Your access code for {name}: {code}. It is valid for {hours} hours."}


@router.post("/access-codes/request", status_code=202, response_model=AccessCodeRequested,
             responses=problem_responses(400, 422, 429, 503))
async def request_access_code(body: AccessCodeRequest, request: Request, tenant: TenantDep,
                              platform: PlatformDep) -> AccessCodeRequested:
    """A customer with no account asks for a code: it is texted to the number, or mailed (in
    their language) to the address, the business has for them (never to another), hashed at
    rest like every code, rate-limited per client address; the answer says nothing of whether
    the number or address is a customer's."""
    await within_limit(platform.access_code_request_limiter, tenant, client_address(request),
                       "access-code requests")
    async with TenantUnitOfWork(platform.pool, tenant.names) as conn:
        cipher = platform.keyring.cipher(tenant.names, conn)
        column = "phone" if body.phone is not None else "email"
        customer = await conn.fetchrow(
            f"SELECT id, {column} AS address, locale FROM customers "  # noqa: S608 - a name
            f"WHERE {column}_index = $1 AND {column} IS NOT NULL LIMIT 1",
            await cipher.blind_index(column, body.phone or body.email or ""))
        if customer is not None:
            await _send_code(conn, cipher, tenant, platform.settings, customer, column)
    return AccessCodeRequested()


async def _send_code(conn: asyncpg.Connection, cipher: TenantCipher, tenant: TenantRecord,
                     settings: ApiSettings, customer: asyncpg.Record, column: str) -> None:
    """A new code for the customer, asked to be texted or mailed once this commits."""
    code = new_access_code()
    await access_codes.issue(
        conn, cipher, customer["id"], code, issued_by=f"{column}-request",
        ttl=dt.timedelta(seconds=settings.api_access_code_ttl),
        max_attempts=settings.api_access_code_attempts)
    address = await cipher.open_text("customers", column, customer["id"], customer["address"])
    hours = settings.api_access_code_ttl // 3600
    if column == "email":
        await request_mail(conn, cipher, tenant.names, "access-code", address,
                           customer["locale"], {"code": code, "hours": str(hours)},
                           source=API_SOURCE)
        return
    words = CODE_TEXT["ro" if tenant.locale.startswith("ro") else "en"]
    await request_text(conn, cipher, tenant.names, address, words.format(
        name=tenant.display_name, code=code, hours=hours), source=API_SOURCE)


@router.post("/access-codes/redeem", response_model=CustomerAccess,
             responses=problem_responses(400, 403, 404, 409, 410, 422, 429, 503))
async def redeem_access_code(body: AccessCodeRedeem, request: Request, tenant: TenantDep,
                             platform: PlatformDep) -> CustomerAccess:
    """No sign-in: the code is the proof. A wrong code is 404, a used one 409, an expired or
    locked one 410; too many attempts from one address are 429."""
    await within_limit(platform.access_code_limiter, tenant, client_address(request),
                       "access-code attempts")
    # Own transaction: a wrong guess must be counted even though the answer is an error.
    async with TenantUnitOfWork(platform.pool, tenant.names) as conn:
        cipher = platform.keyring.cipher(tenant.names, conn)
        customer_id = await access_codes.find_customer(
            conn, cipher, customer_id=body.customer_id, email=body.email, phone=body.phone)
        outcome = ("wrong" if customer_id is None
                   else await access_codes.redeem(conn, cipher, customer_id, body.code))
    if outcome != "redeemed" or customer_id is None:
        raise ApiProblem(*REFUSALS[outcome])
    token, claims = issue_customer_token(
        platform.settings.guest_token_secret.get_secret_value(), tenant.slug, customer_id,
        dt.timedelta(seconds=platform.settings.api_access_token_ttl))
    return CustomerAccess(token=token, customer_id=customer_id, expires_at=claims.expires_at)
