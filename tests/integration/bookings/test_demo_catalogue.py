"""The demo catalogues: each business type seeds services and resources that offer free slots,
seeding twice changes nothing, `simptu seed-demo-catalogue` does it for registered tenants, and
`make up` does it for its demo tenants."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest
import yaml

from simptu.devstack.envfile import StackEnv
from simptu.devstack.services.operator import EXAMPLES
from simptu.runtime.core.bookings import availability, list_resources, list_services
from simptu.runtime.core.bookings.demo import seed_demo_catalogue
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import BusinessType
from simptu.runtime.core.tenancy import TenantNames
from tests.conftest import run_simptu

from .conftest import TZ, MakeTenant

COUNTS = "SELECT (SELECT count(*) FROM services), (SELECT count(*) FROM resources), " \
         "(SELECT count(*) FROM resource_services), (SELECT count(*) FROM schedules)"


async def catalogue_counts(db: asyncpg.Pool, tenant: TenantNames) -> tuple[int, ...]:
    async with TenantUnitOfWork(db, tenant) as conn:
        return tuple(await conn.fetchrow(COUNTS))


@pytest.mark.parametrize(("business_type", "resources"), [
    ("dental-clinic", {"staff": 2}), ("gym", {"class": 2, "staff": 1}), ("hotel", {"room": 4}),
])
async def test_every_demo_service_has_free_slots_in_the_next_two_weeks(
    db: asyncpg.Pool, make_tenant: MakeTenant, business_type: BusinessType,
    resources: dict[str, int],
) -> None:
    tenant = await make_tenant(business_type=business_type)
    tomorrow = dt.datetime.now(TZ).date() + dt.timedelta(days=1)
    async with TenantUnitOfWork(db, tenant) as conn:
        await seed_demo_catalogue(conn, business_type)
        kinds = [resource.kind for resource in await list_resources(conn)]
        services = await list_services(conn)
        free = {service.name: await availability(conn, service.id, None, tomorrow,
                                                  tomorrow + dt.timedelta(days=13), TZ)
                for service in services}
    assert {kind: kinds.count(kind) for kind in set(kinds)} == resources
    assert services
    assert all(free.values()), [name for name, slots in free.items() if not slots]


async def test_seeding_again_changes_nothing(db: asyncpg.Pool, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant(business_type="gym")
    async with TenantUnitOfWork(db, tenant) as conn:
        await seed_demo_catalogue(conn, "gym")
    once = await catalogue_counts(db, tenant)
    async with TenantUnitOfWork(db, tenant) as conn:
        await seed_demo_catalogue(conn, "gym")
    assert await catalogue_counts(db, tenant) == once
    assert once[0] == 3


async def test_the_cli_seeds_each_tenant_by_its_business_type(
    stack: StackEnv, db: asyncpg.Pool, make_tenant: MakeTenant,
) -> None:
    clinic, hotel = await make_tenant("c"), await make_tenant("h", business_type="hotel")
    code, out, err = await run_simptu(stack, "seed-demo-catalogue", clinic.slug, hotel.slug)
    assert code == 0, err
    assert f"{hotel.slug}: hotel demo catalogue seeded" in out
    async with TenantUnitOfWork(db, clinic) as conn:
        assert "Filling" in {service.name for service in await list_services(conn)}


async def test_the_cli_names_a_tenant_that_is_not_registered(stack: StackEnv) -> None:
    code, _, err = await run_simptu(stack, "seed-demo-catalogue", "no-such-tenant")
    assert code == 1
    assert "there is no tenant 'no-such-tenant' in the registry" in err


async def test_make_up_leaves_every_demo_tenant_with_its_catalogue(
        stack: StackEnv, db: asyncpg.Pool) -> None:
    # The `stack` fixture ran `make up`'s idempotent start, whose API step seeds the demo tenants.
    for example in sorted(EXAMPLES.glob("*.yaml")):
        slug = yaml.safe_load(example.read_text())["metadata"]["name"]
        async with TenantUnitOfWork(db, TenantNames(slug)) as conn:
            assert await list_services(conn), f"{slug} has no demo services"
            assert await list_resources(conn), f"{slug} has no demo resources"


async def test_demo_services_are_named_in_romanian_and_english(
    db: asyncpg.Pool, make_tenant: MakeTenant,
) -> None:
    tenant = await make_tenant(business_type="dental-clinic")
    async with TenantUnitOfWork(db, tenant) as conn:
        await seed_demo_catalogue(conn, "dental-clinic")
        cleaning = next(s for s in await list_services(conn) if s.name == "Cleaning")
    assert cleaning.names == {"ro": "Detartraj"}
    assert cleaning.descriptions == {"ro": "Detartraj și periaj profesional"}
    assert (cleaning.name_in("ro"), cleaning.name_in("en")) == ("Detartraj", "Cleaning")
