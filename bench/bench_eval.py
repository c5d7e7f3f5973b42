"""Evaluation benchmark: the local model's understanding on the agent's evaluation set
(tests/eval), both parts, with the time it takes per message and per conversation turn.
The graph runs over the demo catalogues with the bookings in memory; the demo tenants' FAQs are
searched in the stack's Postgres (`make up` seeds them), read-only.
Prints markdown tables (the scores are the figures the closing notes keep).

    .venv/bin/python bench/bench_eval.py [--limit N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import asyncpg

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.runtime.agent.evaluation import (
    DemoFaqs,
    Report,
    Split,
    converse,
    load,
    tables,
    understood,
)
from simptu.runtime.agent.intents import IntentClassifier
from simptu.runtime.agent.providers.local import LocalProvider
from simptu.runtime.core.embeddings import Embedder


async def run(split: Split, limit: int | None, provider: LocalProvider, faqs: DemoFaqs
              ) -> tuple[Report, list[float], list[float]]:
    messages, conversations = load(split)
    report, per_message, per_turn = Report(), [], []
    for message in messages[:limit]:
        started = time.perf_counter()
        intent, slots = await understood(provider, message, faqs)
        per_message.append((time.perf_counter() - started) * 1000)
        report.intents.append((message, intent, slots))
    for conversation in conversations[:limit]:
        started = time.perf_counter()
        ok, said = await converse(provider, conversation, faqs)
        per_turn.append((time.perf_counter() - started) * 1000 / len(conversation["turns"]))
        report.conversations.append((conversation, ok, said))
    return report, per_message, per_turn


async def main(limit: int | None) -> None:
    embedder = Embedder()
    provider = LocalProvider(IntentClassifier(embedder.embed))
    await provider.classifier.warm_up()
    pool = await asyncpg.create_pool(StackEnv.load(DevstackSettings().env_file).database_url,
                                     min_size=1, max_size=2)
    faqs = DemoFaqs.of_examples(pool, embedder)
    timings = []
    for split in ("held_out", "tune"):
        report, per_message, per_turn = await run(split, limit, provider, faqs)
        print(f"## {split}\n")
        print("\n".join(tables(report)) + "\n")
        timings.append((split, per_message, per_turn))
    print("| part | messages | understand p50 ms | conversations | turn p50 ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for split, per_message, per_turn in timings:
        print(f"| {split} | {len(per_message)} | {statistics.median(per_message):.1f} | "
              f"{len(per_turn)} | {statistics.median(per_turn):.1f} |")
    await pool.close()
    embedder.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None,
                        help="score only the first N messages and conversations of each part")
    asyncio.run(main(parser.parse_args().limit))
