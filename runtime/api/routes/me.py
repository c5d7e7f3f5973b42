"""`GET /v1/tenant`: the tenant's public profile; `GET /v1/me`: who the token says the caller
is (a quick check that a token works)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from simptu.runtime.api.dependencies import CallerDep, TenantDep
from simptu.runtime.api.problems import problem_responses

router = APIRouter(prefix="/v1", tags=["tenant"])


class TenantProfile(BaseModel):
    slug: str
    display_name: str
    business_type: str
    locale: str
    timezone: str


class Me(BaseModel):
    tenant: str
    subject: str
    roles: list[str]


@router.get("/tenant", response_model=TenantProfile,
            responses=problem_responses(400, 401, 403, 404, 429, 503))
async def tenant_profile(tenant: TenantDep) -> TenantProfile:
    return TenantProfile.model_validate(tenant.model_dump())


@router.get("/me", response_model=Me, responses=problem_responses(400, 401, 403, 404, 429, 503))
async def me(caller: CallerDep) -> Me:
    return Me(tenant=caller.tenant, subject=caller.subject, roles=sorted(caller.roles))
