"""The demo tenants' catalogues (a dental clinic, a gym, a hotel) and the function that seeds
one into a tenant's schema; seeding again updates it in place."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TypedDict

import asyncpg

from simptu.runtime.core.bookings.catalogue import save_resource, save_service
from simptu.runtime.core.bookings.errors import InvalidRequest, NotFound
from simptu.runtime.core.bookings.models import OpeningHours, ResourceSpec, ServiceSpec
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import BusinessType
from simptu.runtime.core.tenancy import TenantNames

WEEKDAYS = (1, 2, 3, 4, 5)
EVERY_DAY = (1, 2, 3, 4, 5, 6, 7)


def _hours(weekdays: tuple[int, ...], opens: str, closes: str) -> list[OpeningHours]:
    return [OpeningHours(weekday=day, opens=dt.time.fromisoformat(opens),
                            closes=dt.time.fromisoformat(closes)) for day in weekdays]


def _dental_clinic() -> tuple[list[ServiceSpec], list[ResourceSpec]]:
    services = [
        ServiceSpec(name="Consultation", description="Check-up and treatment plan",
                    **_said("Consultație", "Consultație și plan de tratament"),
                    duration_minutes=30, buffer_minutes=0, price=Decimal(150), currency="RON"),
        ServiceSpec(name="Cleaning", description="Scaling and polishing",
                    **_said("Detartraj", "Detartraj și periaj profesional"),
                    duration_minutes=45, buffer_minutes=15, price=Decimal(250), currency="RON"),
        ServiceSpec(name="Filling", description="Composite filling, one tooth",
                    **_said("Plombă", "Obturație din compozit, un dinte"),
                    duration_minutes=60, buffer_minutes=15, price=Decimal(400), currency="RON"),
    ]
    everything = [service.name for service in services]
    resources = [
        ResourceSpec(name="Dr. Ana Popescu", kind="staff", services=everything,
                     hours=_hours(WEEKDAYS, "09:00", "17:00")),
        ResourceSpec(name="Dr. Mihai Ionescu", kind="staff", services=everything,
                     hours=[*_hours((1, 3, 5), "12:00", "20:00"),
                            *_hours((6,), "09:00", "13:00")]),
    ]
    return services, resources


def _gym() -> tuple[list[ServiceSpec], list[ResourceSpec]]:
    services = [
        ServiceSpec(name="Yoga", description="Vinyasa flow, all levels",
                    **_said("Yoga", "Vinyasa flow, pentru toate nivelurile"),
                    duration_minutes=60, price=Decimal(40), currency="RON"),
        ServiceSpec(name="Spinning", description="High-intensity indoor cycling",
                    **_said("Spinning", "Ciclism indoor de intensitate mare"),
                    duration_minutes=45, price=Decimal(35), currency="RON"),
        ServiceSpec(name="Personal training", description="One to one with a coach",
                    **_said("Antrenament personal", "Unu la unu cu un antrenor"),
                    duration_minutes=60, price=Decimal(120), currency="RON"),
    ]
    resources = [
        ResourceSpec(name="Yoga class", kind="class", capacity=12, services=["Yoga"],
                     hours=[*_hours((1, 3, 5), "18:00", "19:00"),
                            *_hours((6,), "10:00", "11:00")]),
        ResourceSpec(name="Spinning class", kind="class", capacity=20, services=["Spinning"],
                     hours=[*_hours((2, 4), "07:00", "07:45"), *_hours((2, 4), "19:00", "19:45")]),
        ResourceSpec(name="Coach Radu", kind="staff", services=["Personal training"],
                     hours=_hours(WEEKDAYS, "08:00", "16:00")),
    ]
    return services, resources


def _hotel() -> tuple[list[ServiceSpec], list[ResourceSpec]]:
    services = [_night("Double room", "Queen bed, breakfast included", 450,
                       _said("Cameră dublă", "Pat queen, mic dejun inclus")),
                _night("Family suite", "Two rooms, up to four guests", 800,
                       _said("Apartament de familie", "Două camere, până la patru oaspeți"))]
    rooms = [ResourceSpec(name=f"Room {number}", kind="room", services=["Double room"],
                          hours=_hours(EVERY_DAY, "00:00", "23:59")) for number in (101, 102, 103)]
    suites = [ResourceSpec(name="Suite 201", kind="room", services=["Family suite"],
                           hours=_hours(EVERY_DAY, "00:00", "23:59"))]
    return services, rooms + suites


def _night(name: str, description: str, price: int, said: SaidInRomanian) -> ServiceSpec:
    """A hotel night: check-in at 14:00, check-out at 11:00 on a later day."""
    return ServiceSpec(name=name, description=description, **said, kind="night",
                       duration_minutes=1440, price=Decimal(price), currency="RON",
                       check_in=dt.time(14), check_out=dt.time(11))


class SaidInRomanian(TypedDict):
    names: dict[str, str]
    descriptions: dict[str, str]


def _said(romanian_name: str, romanian_description: str) -> SaidInRomanian:
    """A demo service's Romanian name and description (the catalogue's own are English)."""
    return SaidInRomanian(names={"ro": romanian_name},
                          descriptions={"ro": romanian_description})


CATALOGUES = {"dental-clinic": _dental_clinic, "gym": _gym, "hotel": _hotel}


async def seed_demo_catalogue(conn: asyncpg.Connection, business_type: BusinessType) -> None:
    """Write the demo catalogue of `business_type` in the caller's `TenantUnitOfWork`."""
    if business_type not in CATALOGUES:
        raise InvalidRequest(f"no demo catalogue for {business_type!r}; "
                             f"there are {', '.join(CATALOGUES)}")
    services, resources = CATALOGUES[business_type]()
    for service in services:
        await save_service(conn, service)
    for resource in resources:
        await save_resource(conn, resource)


async def seed_demo_tenant(pool: asyncpg.Pool, slug: str) -> BusinessType:
    """Seed the demo catalogue that fits a registered tenant's business type; returns it."""
    business_type: BusinessType | None = await pool.fetchval(
        "SELECT business_type FROM platform.tenants WHERE slug = $1", slug)
    if business_type is None:
        raise NotFound(f"there is no tenant {slug!r} in the registry")
    async with TenantUnitOfWork(pool, TenantNames(slug)) as conn:
        await seed_demo_catalogue(conn, business_type)
    return business_type
