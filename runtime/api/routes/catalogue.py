"""The tenant's catalogue and its free slots: services, bookable resources (staff, rooms,
classes) with their weekly hours, closed days, and availability. Any caller of the tenant reads
(services and resources from the hot-read cache); only its admins change the catalogue, and
every change drops the cached reads."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated
from zoneinfo import ZoneInfo

import asyncpg
from fastapi import APIRouter, Depends, Query, Response

from simptu.runtime.api.auth import ADMIN_ROLES, Caller
from simptu.runtime.api.booking_models import ClosedDay, ResourceList, ServiceList, SlotList
from simptu.runtime.api.dependencies import CallerDep, TenantDep, UnitOfWork, role
from simptu.runtime.api.hot_reads import CatalogueWrite, HotReadsDep
from simptu.runtime.api.problems import problem_responses
from simptu.runtime.core.bookings import availability, catalogue, stay_availability
from simptu.runtime.core.bookings.models import (
    MAX_NIGHTS,
    Resource,
    ResourceSpec,
    Service,
    ServiceSpec,
)

router = APIRouter(prefix="/v1", tags=["catalogue"])
ERRORS = problem_responses(400, 401, 403, 404, 422, 429, 503)
Admin = Annotated[Caller, Depends(role(*ADMIN_ROLES))]


async def tenant_timezone(tenant: TenantDep) -> ZoneInfo:
    """Dates and opening hours are the tenant's wall clock."""
    return ZoneInfo(tenant.timezone)


TenantTz = Annotated[ZoneInfo, Depends(tenant_timezone)]


@router.get("/services", response_model=ServiceList, responses=ERRORS)
async def list_services(_: CallerDep, reads: HotReadsDep) -> ServiceList:
    """The services on sale, by name."""
    async def query(conn: asyncpg.Connection) -> ServiceList:
        return ServiceList(items=await catalogue.list_services(conn))
    return await reads.get(catalogue.CACHE_COLLECTION, "services", ServiceList, query)


@router.post("/services", status_code=201, response_model=Service, responses=ERRORS)
async def save_service(body: ServiceSpec, _: Admin, conn: CatalogueWrite) -> Service:
    """Create the service of this name, or update it if there is one (so a retry is safe)."""
    return await catalogue.save_service(conn, body)


@router.put("/services/{service_id}", response_model=Service, responses=ERRORS)
async def update_service(service_id: uuid.UUID, body: ServiceSpec, _: Admin,
                         conn: CatalogueWrite) -> Service:
    return await catalogue.update_service(conn, service_id, body)


@router.delete("/services/{service_id}", status_code=204, response_class=Response,
               responses=ERRORS)
async def retire_service(service_id: uuid.UUID, _: Admin, conn: CatalogueWrite) -> None:
    """Take the service off sale; its bookings stay."""
    await catalogue.retire(conn, "services", service_id)


@router.get("/resources", response_model=ResourceList, responses=ERRORS)
async def list_resources(_: CallerDep, reads: HotReadsDep,
                         service_id: uuid.UUID | None = None) -> ResourceList:
    """Staff, rooms and classes with their services and weekly hours; with `service_id`, only
    those offering it."""
    async def query(conn: asyncpg.Connection) -> ResourceList:
        return ResourceList(items=await catalogue.list_resources(conn, service_id))
    return await reads.get(catalogue.CACHE_COLLECTION, f"resources:{service_id or 'all'}",
                           ResourceList, query)


@router.post("/resources", status_code=201, response_model=Resource, responses=ERRORS)
async def save_resource(body: ResourceSpec, _: Admin, conn: CatalogueWrite) -> Resource:
    """Create the resource of this name, or update it; its services (by name) and weekly
    hours replace any it had."""
    return await catalogue.save_resource(conn, body)


@router.put("/resources/{resource_id}", response_model=Resource, responses=ERRORS)
async def update_resource(resource_id: uuid.UUID, body: ResourceSpec, _: Admin,
                          conn: CatalogueWrite) -> Resource:
    """Change the resource, its services and its weekly hours (its schedule)."""
    return await catalogue.update_resource(conn, resource_id, body)


@router.delete("/resources/{resource_id}", status_code=204, response_class=Response,
               responses=ERRORS)
async def retire_resource(resource_id: uuid.UUID, _: Admin, conn: CatalogueWrite) -> None:
    """Stop offering the resource; its bookings stay."""
    await catalogue.retire(conn, "resources", resource_id)


@router.post("/closed-days", status_code=204, response_class=Response, responses=ERRORS)
async def close_day(body: ClosedDay, _: Admin, conn: UnitOfWork) -> None:
    """Close one resource, or the whole business, for a day; existing bookings stay."""
    if body.resource_id is not None:
        await catalogue.get_resource(conn, body.resource_id)
    await catalogue.close_day(conn, body.day, body.resource_id, body.reason)


@router.get("/availability", response_model=SlotList, responses=ERRORS)
async def free_slots(_: CallerDep, conn: UnitOfWork, tz: TenantTz, service_id: uuid.UUID,
                     from_date: Annotated[dt.date, Query(alias="from")],
                     to_date: Annotated[dt.date, Query(alias="to")],
                     resource_id: uuid.UUID | None = None) -> SlotList:
    """Free slots of a service from `from` to `to` (tenant-local dates, both included, at
    most 62 days), on one resource or every resource offering it, by start."""
    return SlotList(items=await availability(conn, service_id, resource_id, from_date,
                                             to_date, tz))


@router.get("/availability/stays", response_model=SlotList, responses=ERRORS)
async def free_stays(_: CallerDep, conn: UnitOfWork, tz: TenantTz, service_id: uuid.UUID,
                     check_in: dt.date,
                     nights: Annotated[int, Query(ge=1, le=MAX_NIGHTS)] = 1) -> SlotList:
    """For a night service (hotel rooms): one slot per room free for the whole stay."""
    return SlotList(items=await stay_availability(conn, service_id, check_in, nights, tz))
