"""The tenant's catalogue: services, the resources that offer them and their weekly hours; read
by availability and booking, written by the demo seeding and the API's admin endpoints."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import asyncpg

from simptu.runtime.core.bookings.errors import InvalidRequest, NotFound
from simptu.runtime.core.bookings.models import (
    OpeningHours,
    Resource,
    ResourceSpec,
    Service,
    ServiceSpec,
)

# The API's cached reads of the catalogue (services, resources): every write invalidates them.
CACHE_COLLECTION = "catalogue"
SERVICE_COLUMNS = ("id, name, description, names, descriptions, kind, duration_minutes, "
                   "buffer_minutes, price, currency, check_in, check_out")
# Columns held as jsonb (asyncpg reads and writes jsonb as text).
JSON_COLUMNS = ("names", "descriptions")
RESOURCE_QUERY = """
    SELECT r.id, r.name, r.kind, r.capacity,
           coalesce(array_agg(rs.service_id ORDER BY rs.service_id)
                    FILTER (WHERE rs.service_id IS NOT NULL), '{}') AS service_ids,
           (SELECT coalesce(json_agg(json_build_object('weekday', s.weekday, 'opens', s.opens,
                                                       'closes', s.closes)
                                     ORDER BY s.weekday, s.opens), '[]')
            FROM schedules s WHERE s.resource_id = r.id) AS hours
    FROM resources r LEFT JOIN resource_services rs ON rs.resource_id = r.id
    WHERE r.active AND ($1::uuid IS NULL OR r.id = $1)
      AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM resource_services o
                                       WHERE o.resource_id = r.id AND o.service_id = $2))
    GROUP BY r.id ORDER BY r.name"""


def _service(row: asyncpg.Record) -> Service:
    return Service.model_validate(
        dict(row) | {column: json.loads(row[column]) for column in JSON_COLUMNS})


def _service_values(spec: ServiceSpec) -> dict[str, Any]:
    """`spec` as column values, the jsonb ones as JSON text."""
    values: dict[str, Any] = spec.model_dump()
    return values | {column: json.dumps(values[column]) for column in JSON_COLUMNS}


def _resource(row: asyncpg.Record) -> Resource:
    return Resource.model_validate(dict(row) | {"hours": json.loads(row["hours"])})


async def list_services(conn: asyncpg.Connection) -> list[Service]:
    """The services on sale, by name."""
    rows = await conn.fetch(f"SELECT {SERVICE_COLUMNS} FROM services WHERE active ORDER BY name")  # noqa: S608
    return [_service(row) for row in rows]


async def get_service(conn: asyncpg.Connection, service_id: uuid.UUID) -> Service:
    row = await conn.fetchrow(
        f"SELECT {SERVICE_COLUMNS} FROM services WHERE id = $1 AND active", service_id)  # noqa: S608
    if row is None:
        raise NotFound(f"there is no service {service_id}")
    return _service(row)


async def list_resources(conn: asyncpg.Connection,
                         service_id: uuid.UUID | None = None) -> list[Resource]:
    """The bookable resources, by name; with `service_id`, only those offering it."""
    return [_resource(row) for row in await conn.fetch(RESOURCE_QUERY, None, service_id)]


async def get_resource(conn: asyncpg.Connection, resource_id: uuid.UUID) -> Resource:
    row = await conn.fetchrow(RESOURCE_QUERY, resource_id, None)
    if row is None:
        raise NotFound(f"there is no bookable resource {resource_id}")
    return _resource(row)


async def resources_offering(conn: asyncpg.Connection, service: Service,
                             resource_id: uuid.UUID | None) -> list[Resource]:
    """`resource_id` if it offers `service`, or, without one, every resource that does."""
    if resource_id is None:
        return await list_resources(conn, service.id)
    resource = await get_resource(conn, resource_id)
    if service.id not in resource.service_ids:
        raise InvalidRequest(f"{resource.name} does not offer {service.name}")
    return [resource]


async def save_service(conn: asyncpg.Connection, spec: ServiceSpec) -> Service:
    """Create the service named `spec.name`, or update it to match `spec`."""
    values = _service_values(spec)
    columns = list(values)
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns if column != "name")
    row = await conn.fetchrow(
        f"INSERT INTO services ({', '.join(columns)}) "  # noqa: S608 - column names are ours
        f"VALUES ({', '.join(f'${i}' for i in range(1, len(columns) + 1))}) "
        f"ON CONFLICT (name) DO UPDATE SET {updates}, active = true, updated_at = now() "
        f"RETURNING {SERVICE_COLUMNS}", *values.values())
    return _service(row)


async def save_resource(conn: asyncpg.Connection, spec: ResourceSpec) -> Resource:
    """Create the resource named `spec.name` or update it; its services and weekly hours are
    replaced by those of `spec`."""
    service_ids = await _service_ids(conn, spec.services)
    resource_id = await conn.fetchval(
        "INSERT INTO resources (name, kind, capacity) VALUES ($1, $2, $3) "
        "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, capacity = excluded.capacity, "
        "active = true, updated_at = now() RETURNING id", spec.name, spec.kind, spec.capacity)
    return await _replace_offer(conn, resource_id, service_ids, spec.hours)


async def update_resource(conn: asyncpg.Connection, resource_id: uuid.UUID,
                          spec: ResourceSpec) -> Resource:
    """Change resource `resource_id` to match `spec`, its name, services and hours included."""
    service_ids = await _service_ids(conn, spec.services)
    async with _name_taken_in_words(conn, "resource", spec.name):
        found = await conn.fetchval(
            "UPDATE resources SET name = $2, kind = $3, capacity = $4, updated_at = now() "
            "WHERE id = $1 AND active RETURNING id", resource_id, spec.name, spec.kind,
            spec.capacity)
    if found is None:
        raise NotFound(f"there is no bookable resource {resource_id}")
    return await _replace_offer(conn, resource_id, service_ids, spec.hours)


async def _replace_offer(conn: asyncpg.Connection, resource_id: uuid.UUID,
                         service_ids: list[uuid.UUID], hours: list[OpeningHours]) -> Resource:
    """Replace what a resource offers and when it works."""
    await conn.execute("DELETE FROM resource_services WHERE resource_id = $1", resource_id)
    await conn.executemany("INSERT INTO resource_services (resource_id, service_id) "
                           "VALUES ($1, $2)", [(resource_id, sid) for sid in service_ids])
    await conn.execute("DELETE FROM schedules WHERE resource_id = $1", resource_id)
    await conn.executemany(
        "INSERT INTO schedules (resource_id, weekday, opens, closes) VALUES ($1, $2, $3, $4)",
        [(resource_id, h.weekday, h.opens, h.closes) for h in hours])
    return await get_resource(conn, resource_id)


async def update_service(conn: asyncpg.Connection, service_id: uuid.UUID,
                         spec: ServiceSpec) -> Service:
    """Change service `service_id` to match `spec`, its name included. Existing bookings keep
    the times they were booked with."""
    values = _service_values(spec)
    assignments = ", ".join(f"{column} = ${n}" for n, column in enumerate(values, start=2))
    async with _name_taken_in_words(conn, "service", spec.name):
        row = await conn.fetchrow(
            f"UPDATE services SET {assignments}, updated_at = now() "  # noqa: S608 - our columns
            f"WHERE id = $1 AND active RETURNING {SERVICE_COLUMNS}", service_id, *values.values())
    if row is None:
        raise NotFound(f"there is no service {service_id}")
    return _service(row)


async def retire(conn: asyncpg.Connection, table: Literal["services", "resources"],
                 item_id: uuid.UUID) -> None:
    """Take a service or resource off sale. The row stays (its bookings refer to it) and the
    bookings stay: someone has to tell those customers."""
    done = await conn.execute(
        f"UPDATE {table} SET active = false, updated_at = now() "  # noqa: S608 - a Literal
        "WHERE id = $1 AND active", item_id)
    if done == "UPDATE 0":
        raise NotFound(f"there is no {table.removesuffix('s')} {item_id}")


@asynccontextmanager
async def _name_taken_in_words(conn: asyncpg.Connection, what: str,
                               name: str) -> AsyncIterator[None]:
    """A clash of names as a booking error, its savepoint rolled back so the caller's unit of
    work stays usable."""
    try:
        async with conn.transaction():
            yield
    except asyncpg.UniqueViolationError as error:
        raise InvalidRequest(f"there is already a {what} named {name!r}") from error


async def close_day(conn: asyncpg.Connection, day: dt.date, resource_id: uuid.UUID | None = None,
                    reason: str = "") -> None:
    """Close one resource (or, without one, the whole business) for `day`. Existing bookings
    are kept: someone has to tell those customers."""
    await conn.execute(
        "INSERT INTO schedule_exceptions (resource_id, day, reason) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING", resource_id, day, reason)


async def _service_ids(conn: asyncpg.Connection, names: list[str]) -> list[uuid.UUID]:
    rows = await conn.fetch("SELECT name, id FROM services WHERE name = ANY($1::text[])", names)
    found = {row["name"]: row["id"] for row in rows}
    missing = [name for name in names if name not in found]
    if missing:
        raise NotFound(f"no service named {', '.join(map(repr, missing))}")
    return [found[name] for name in names]
