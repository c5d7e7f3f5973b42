"""Knowledge-base benchmark: the latency of `search_entries` (full-text candidates re-ranked by
the stored embeddings, and the embedding fallback when no word matches) on the demo clinic's
FAQ of 12 entries and on a FAQ of 500, its parts (embedding the query, the full-text query,
the fallback's scan), and a hot read of the FAQ's first page from the Redis cache against the
database. Runs against the local stack (`make up`) with a throwaway tenant, removed
afterwards. Prints a markdown table.

    .venv/bin/python bench/bench_knowledge.py [--runs 50] [--entries 500]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import asyncpg
import redis.asyncio as aioredis
from bench_outbox import throwaway_tenant  # the same provisioning as the operator's
from pydantic import BaseModel

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.embeddings import Embedder
from simptu.runtime.core.knowledge import KnowledgeEntry, list_entries, search_entries
from simptu.runtime.core.knowledge.demo import seed_demo_faq
from simptu.runtime.core.knowledge.search import (
    CANDIDATES,
    EVERY_ENTRY,
    FULL_TEXT_CANDIDATES,
    ROMANIAN_STOP_WORDS,
    best_hits,
)
from simptu.runtime.core.knowledge.store import EMBEDDING_MODEL
from simptu.runtime.core.tenancy import TenantNames
from simptu.runtime.core.tenant_cache import TenantCache

TOPICS = ["parking", "prices", "insurance", "children", "payment", "holidays", "whitening",
          "implants", "braces", "x-rays", "anaesthesia", "invoices", "gift cards", "hygiene",
          "emergencies", "pets", "wifi", "accessibility", "languages", "reviews"]
ENGLISH_QUESTION = "How much does parking cost?"
ROMANIAN_QUESTION = "cat costa o consultatie"
PARAPHRASE = "Where can I leave my car?"  # no word in common with any entry


class Page(BaseModel):
    items: list[KnowledgeEntry]


async def timed(call: Callable[[], Awaitable[object]], runs: int) -> tuple[float, float]:
    """(median, 95th percentile) of `runs` calls in milliseconds, after one warm-up call."""
    await call()
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent), statistics.quantiles(spent, n=20)[-1]


async def grow_faq(pool: asyncpg.Pool, embedder: Embedder, tenant: TenantNames,
                   entries: int) -> None:
    """Synthetic English entries up to `entries`, embedded in one batch."""
    async with TenantUnitOfWork(pool, tenant) as conn:
        have = await conn.fetchval("SELECT count(*) FROM knowledge_entries")
        specs = [(f"What about {TOPICS[i % len(TOPICS)]}, option {i}?",
                  f"Option {i} of {TOPICS[i % len(TOPICS)]} costs {i} RON.")
                 for i in range(entries - have)]
        vectors = await embedder.embed([question for question, _ in specs])
        await conn.executemany(
            "INSERT INTO knowledge_entries (locale, question, answer, embedding, "
            "embedding_model) VALUES ('en', $1, $2, $3, $4)",
            [(q, a, v, EMBEDDING_MODEL) for (q, a), v in zip(specs, vectors, strict=True)])


async def measure(pool: asyncpg.Pool, redis: aioredis.Redis, embedder: Embedder,
                  tenant: TenantNames, runs: int) -> list[tuple[str, float, float]]:
    async def in_tenant(work: Callable[[asyncpg.Connection], Awaitable[object]]) -> object:
        async with TenantUnitOfWork(pool, tenant) as conn:
            return await work(conn)

    [vector] = await embedder.embed([PARAPHRASE])

    async def fallback_scan(conn: asyncpg.Connection) -> object:
        return best_hits(await conn.fetch(EVERY_ENTRY, None), vector, 3)

    cache = TenantCache(redis, tenant, ttl=60)

    async def first_page() -> Page:
        async with TenantUnitOfWork(pool, tenant) as conn:
            return Page(items=await list_entries(conn, limit=20))

    async def cached_first_page() -> Page:
        return await cache.read_through("knowledge", "bench", Page, first_page)

    measured = [
        ("embed the query", *await timed(lambda: embedder.embed([ENGLISH_QUESTION]), runs)),
        ("full-text candidates (en)", *await timed(lambda: in_tenant(
            lambda c: c.fetch(FULL_TEXT_CANDIDATES, ENGLISH_QUESTION, "en", CANDIDATES,
                              ROMANIAN_STOP_WORDS)), runs)),
        ("search, English question", *await timed(lambda: in_tenant(
            lambda c: search_entries(c, embedder, ENGLISH_QUESTION, "en")), runs)),
        ("search, Romanian question", *await timed(lambda: in_tenant(
            lambda c: search_entries(c, embedder, ROMANIAN_QUESTION, "ro")), runs)),
        ("fallback scan alone (all entries)", *await timed(
            lambda: in_tenant(fallback_scan), runs)),
        ("search, paraphrase (fallback)", *await timed(lambda: in_tenant(
            lambda c: search_entries(c, embedder, PARAPHRASE, None)), runs)),
        ("first page of 20, database", *await timed(first_page, runs)),
        ("first page of 20, Redis cache", *await timed(cached_first_page, runs)),
    ]
    await cache.invalidate_all()
    return measured


async def main(runs: int, entries: int) -> None:
    stack = StackEnv.load(DevstackSettings().env_file)
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
    redis = aioredis.Redis.from_url(stack.redis_url)
    embedder = Embedder()
    await embedder.warm_up()
    table: list[tuple[int, str, float, float]] = []
    try:
        async with throwaway_tenant(stack, pool) as tenant:
            async with TenantUnitOfWork(pool, tenant) as conn:
                size = await seed_demo_faq(conn, embedder, "dental-clinic")
            for faq_size in (size, entries):
                await grow_faq(pool, embedder, tenant, faq_size)
                print(f"measuring with {faq_size} entries ...", flush=True)
                table += [(faq_size, *row) for row in
                          await measure(pool, redis, embedder, tenant, runs)]
    finally:
        await redis.aclose()
        await pool.close()
    print(f"\n{runs} runs each, one at a time\n")
    print("| entries | what | p50 ms | p95 ms |")
    print("|---:|---|---:|---:|")
    for faq_size, what, p50, p95 in table:
        print(f"| {faq_size} | {what} | {p50:.2f} | {p95:.2f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--entries", type=int, default=500)
    options = parser.parse_args()
    asyncio.run(main(options.runs, options.entries))
