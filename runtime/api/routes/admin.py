"""Platform admin views: every tenant as the routing registry has it (status, business,
issuer, web origins), for callers with the `platform-admin` role. Read only: the operator is
the registry's only writer."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from simptu.runtime.api.auth import Caller
from simptu.runtime.api.dependencies import PlatformDep, role
from simptu.runtime.api.pagination import MAX_PAGE, decode_cursor, encode_cursor
from simptu.runtime.api.problems import ApiProblem, problem_responses
from simptu.runtime.core.registry import BusinessType, TenantStatus, UnknownTenant

router = APIRouter(prefix="/v1/admin/tenants", tags=["platform admin"])
ERRORS = problem_responses(400, 401, 403, 404, 429, 503)
PlatformAdmin = Annotated[Caller, Depends(role("platform-admin"))]


class TenantOverview(BaseModel):
    slug: str
    status: TenantStatus
    business_type: BusinessType
    display_name: str
    locale: str
    timezone: str
    auth_issuer: str | None
    web_origins: list[str]
    schema_name: str
    transit_key: str
    generation: int = Field(description="the Tenant's metadata.generation last provisioned")
    updated_at: dt.datetime | None


class TenantOverviewPage(BaseModel):
    items: list[TenantOverview]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null on the last page")


@router.get("", response_model=TenantOverviewPage, responses=ERRORS)
async def list_tenants(platform: PlatformDep, _: PlatformAdmin,
                       status: TenantStatus | None = None, cursor: str | None = None,
                       limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
                       ) -> TenantOverviewPage:
    position = decode_cursor(cursor)
    after = position.get("slug") if position else None
    if after is not None and not isinstance(after, str):
        raise ApiProblem(400, "invalid-cursor", "the cursor is not one this API returned")
    records = await platform.registry.page(after, limit + 1, status)
    items = [TenantOverview.model_validate(r.model_dump()) for r in records[:limit]]
    more = len(records) > limit
    return TenantOverviewPage(
        items=items, next_cursor=encode_cursor({"slug": items[-1].slug}) if more else None)


@router.get("/{slug}", response_model=TenantOverview, responses=ERRORS)
async def get_tenant(slug: str, platform: PlatformDep, _: PlatformAdmin) -> TenantOverview:
    try:
        record = await platform.registry.get(slug)
    except UnknownTenant:
        raise ApiProblem(404, "unknown-tenant", f"no tenant {slug!r} is registered") from None
    return TenantOverview.model_validate(record.model_dump())
