"""The demo FAQs: each business type's answers its customers' usual questions in Romanian and
English, seeding again changes nothing, `simptu seed-demo-catalogue` seeds them and drops the
API's cached reads of the tenant's catalogue and FAQ, and `make up` does it for its demo
tenants."""

from __future__ import annotations

import asyncio
import sys

import asyncpg
import pytest
import redis.asyncio as aioredis
import yaml
from pydantic import BaseModel

from simptu.devstack.envfile import StackEnv
from simptu.devstack.services.operator import EXAMPLES
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.embeddings import Embedder
from simptu.runtime.core.knowledge import list_entries
from simptu.runtime.core.knowledge.demo import demo_faq, seed_demo_faq
from simptu.runtime.core.tenancy import TenantNames
from simptu.runtime.core.tenant_cache import TenantCache

from .conftest import MakeTenant, Search, questions


class Stale(BaseModel):
    items: list[str]


@pytest.mark.parametrize(("business_type", "query", "locale", "expected"), [
    ("dental-clinic", "cat costa o consultatie", "ro", "Cât costă o consultație?"),
    ("dental-clinic", "Where can I park?", "en", "Is there parking?"),
    ("gym", "la ce ora e yoga", "ro", "Când sunt orele de yoga și spinning?"),
    ("gym", "What do I need to bring with me?", "en", "What should I bring?"),
    ("hotel", "pot veni cu câinele?", "ro", "Acceptați animale de companie?"),
    ("hotel", "When can I check in?", "en", "What time are check-in and check-out?"),
])
async def test_each_demo_faq_answers_its_customers_usual_questions(
    db: asyncpg.Pool, embedder: Embedder, make_tenant: MakeTenant, search: Search,
    business_type: str, query: str, locale: str, expected: str,
) -> None:
    tenant = await make_tenant(business_type=business_type)
    async with TenantUnitOfWork(db, tenant) as conn:
        await seed_demo_faq(conn, embedder, business_type)
    assert questions(await search(tenant, query, locale))[:1] == [expected]


@pytest.mark.parametrize("business_type", ["dental-clinic", "gym", "hotel"])
def test_each_demo_faq_asks_the_same_questions_in_both_languages(business_type: str) -> None:
    faq = demo_faq(business_type)
    romanian = [e for e in faq if e.locale == "ro"]
    assert len(romanian) == len(faq) - len(romanian) >= 5


async def test_seeding_again_changes_nothing(
    db: asyncpg.Pool, embedder: Embedder, make_tenant: MakeTenant,
) -> None:
    tenant = await make_tenant(business_type="hotel")
    async with TenantUnitOfWork(db, tenant) as conn:
        await seed_demo_faq(conn, embedder, "hotel")
        once = await list_entries(conn)
        await seed_demo_faq(conn, embedder, "hotel")
        again = await list_entries(conn)
    assert [(e.id, e.question, e.answer) for e in again] == [
        (e.id, e.question, e.answer) for e in once]


async def test_the_cli_seeds_the_faq_and_drops_the_cached_reads(
    stack: StackEnv, db: asyncpg.Pool, redis_client: aioredis.Redis, make_tenant: MakeTenant,
) -> None:
    gym = await make_tenant("g", business_type="gym")
    cache = TenantCache(redis_client, gym)
    for collection in ("knowledge", "catalogue"):
        await cache.read_through(collection, "first-page", Stale, _stale)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simptu.runtime", "seed-demo-catalogue", gym.slug,
        env={**stack.values, "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=180)
    assert proc.returncode == 0, err.decode()
    assert f"{gym.slug}: gym demo catalogue seeded, FAQ of 12 entries" in out.decode()
    async with TenantUnitOfWork(db, gym) as conn:
        assert len(await list_entries(conn)) == 12
    for collection in ("knowledge", "catalogue"):
        assert await redis_client.hget(cache.key(collection), "first-page") is None


async def _stale() -> Stale:
    return Stale(items=["cached before seeding"])


async def test_make_up_leaves_every_demo_tenant_with_its_faq_in_both_languages(
        stack: StackEnv, db: asyncpg.Pool) -> None:
    # The `stack` fixture ran `make up`'s idempotent start, whose API step seeds the demo tenants.
    for example in sorted(EXAMPLES.glob("*.yaml")):
        slug = yaml.safe_load(example.read_text())["metadata"]["name"]
        async with TenantUnitOfWork(db, TenantNames(slug)) as conn:
            locales = [entry.locale for entry in await list_entries(conn)]
        assert locales.count("ro") >= 5, slug
        assert locales.count("en") >= 5, slug
