"""`simptu`: platform administration from the command line (settings from `SIMPTU_*`)."""

from __future__ import annotations

import argparse
import asyncio
import sys

import asyncpg
import redis.asyncio as aioredis

from simptu.runtime.core import entrypoint
from simptu.runtime.core.bookings import catalogue
from simptu.runtime.core.bookings.demo import seed_demo_tenant
from simptu.runtime.core.bookings.errors import BookingError
from simptu.runtime.core.database import TenantUnitOfWork, create_pool
from simptu.runtime.core.embeddings import Embedder
from simptu.runtime.core.housekeeping import housekeep
from simptu.runtime.core.knowledge import store as knowledge
from simptu.runtime.core.knowledge.demo import seed_demo_faq
from simptu.runtime.core.migrations import (
    Migration,
    MigrationError,
    migrate_all_tenants,
    migrate_platform,
)
from simptu.runtime.core.redis_client import connect_redis
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames
from simptu.runtime.core.tenant_cache import TenantCache


def _parser() -> argparse.ArgumentParser:
    parser = entrypoint.parser(
        "simptu", "Administer a Simptu platform. Connection settings come from "
        "the environment (SIMPTU_DATABASE_URL, ...); for the local stack: eval \"$(make -s env)\".",
        CoreSettings)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "migrate", help="upgrade the platform registry and every tenant schema to the latest "
        "migrations (safe to run concurrently and repeatedly)")
    seed = commands.add_parser(
        "seed-demo-catalogue", help="give demo tenants the services, staff, rooms or classes, "
        "schedules and FAQ (Romanian and English) of their business type (seeding again "
        "updates them in place)")
    seed.add_argument("slugs", nargs="+", metavar="SLUG", help="a tenant in the registry")
    embed = commands.add_parser(
        "embed-knowledge", help="embed again the knowledge-base entries that another model "
        "embedded (after an upgrade of the embedding model; safe to repeat)")
    embed.add_argument("slugs", nargs="*", metavar="SLUG",
                       help="a tenant in the registry (default: every tenant)")
    commands.add_parser(
        "housekeep", help="one round of the periodic chores for every Ready tenant: ended "
        "bookings become completed, Idempotency-Key records older than a day and handled-event "
        "records older than a week go (every API "
        "replica also runs them every SIMPTU_API_HOUSEKEEPING_INTERVAL seconds)")
    return parser


def _report(done: int, total: int, tenant: TenantNames, applied: list[Migration]) -> None:
    what = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "up to date"
    print(f"  [{done}/{total}] {tenant.schema}: {what}", flush=True)


async def migrate(settings: CoreSettings) -> int:
    pool = await create_pool(settings)
    try:
        async with pool.acquire() as conn:
            applied = await migrate_platform(conn)
        print(f"platform: {len(applied)} migration(s) applied", flush=True)
        report = await migrate_all_tenants(pool, progress=_report)
        print(f"tenants: {report.applied} migration(s) applied", flush=True)
    finally:
        await pool.close()
    for slug, why in report.failed.items():
        print(f"error: tenant {slug}: {why}", file=sys.stderr)
    return 1 if report.failed else 0


async def seed_demo_catalogues(settings: CoreSettings, slugs: list[str]) -> int:
    pool = await create_pool(settings)
    redis = connect_redis(settings.redis_url.get_secret_value())
    embedder = Embedder()
    try:
        for slug in slugs:
            tenant = TenantNames(slug)
            business_type = await seed_demo_tenant(pool, slug)
            async with TenantUnitOfWork(pool, tenant) as conn:
                entries = await seed_demo_faq(conn, embedder, business_type)
            # The API's cached reads of them are stale now.
            await TenantCache(redis, tenant).invalidate_collections(
                catalogue.CACHE_COLLECTION, knowledge.CACHE_COLLECTION)
            print(f"{slug}: {business_type} demo catalogue seeded, FAQ of {entries} entries",
                  flush=True)
    except BookingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except asyncpg.UndefinedTableError as error:
        print(f"error: {error}: run `simptu migrate` first", file=sys.stderr)
        return 1
    finally:
        embedder.close()
        await redis.aclose()
        await pool.close()
    return 0


async def embed_knowledge(settings: CoreSettings, slugs: list[str]) -> int:
    pool = await create_pool(settings)
    redis = connect_redis(settings.redis_url.get_secret_value())
    embedder = Embedder()
    failed = 0
    try:
        slugs = slugs or [row["slug"] for row in await pool.fetch(
            "SELECT slug FROM platform.tenants WHERE status <> 'Shredded' ORDER BY slug")]
        for slug in slugs:
            try:
                embedded = await _embed_tenant_knowledge(pool, redis, embedder,
                                                         TenantNames(slug))
            except asyncpg.PostgresError as error:  # one broken tenant does not stop the others
                print(f"error: tenant {slug}: {error}", file=sys.stderr)
                failed += 1
                continue
            print(f"{slug}: {embedded} knowledge-base entries embedded again", flush=True)
    finally:
        embedder.close()
        await redis.aclose()
        await pool.close()
    return 1 if failed else 0


async def _embed_tenant_knowledge(pool: asyncpg.Pool, redis: aioredis.Redis, embedder: Embedder,
                                  tenant: TenantNames) -> int:
    async with TenantUnitOfWork(pool, tenant) as conn:
        embedded = await knowledge.embed_stale_entries(conn, embedder)
    if embedded:
        await TenantCache(redis, tenant).invalidate_collections(knowledge.CACHE_COLLECTION)
    return embedded


async def housekeep_once(settings: CoreSettings) -> int:
    pool = await create_pool(settings)
    try:
        done = await housekeep(pool)
    finally:
        await pool.close()
    if done is None:
        print("another process is doing a round now; nothing done", file=sys.stderr)
        return 1
    print(f"{done.tenants} tenant(s): {done.completed} booking(s) completed, "
          f"{done.purged} idempotency record(s) purged")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = CoreSettings()  # type: ignore[call-arg]  # filled from the environment
    try:
        if args.command == "migrate":
            return asyncio.run(migrate(settings))
        if args.command == "seed-demo-catalogue":
            return asyncio.run(seed_demo_catalogues(settings, args.slugs))
        if args.command == "embed-knowledge":
            return asyncio.run(embed_knowledge(settings, args.slugs))
        if args.command == "housekeep":
            return asyncio.run(housekeep_once(settings))
    except MigrationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 2
