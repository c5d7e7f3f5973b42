"""Faults under load: a private platform of the stack's code (its own Redis, API, WS hub and
agent worker for a tenant of its own, tests/faults/runtimes.py), N phoenix.js conversations
(tests/faults/load.py), and each fault injected at its moment (tests/faults/scenarios.py):
the hub or the agent killed (SIGKILL) after a reply's first delta, the agent killed after the
answer to a booking's confirmation began, the API killed, the hub's and API's Redis killed; and
the services around them (tests/faults/service_trials.py): the outbox relay killed mid-batch,
the operator killed mid-provisioning, OpenBao sealed and killed, Keycloak killed (a private one), a
conversation's row lock held past the hub's command timeout; and the data services, each a
private instance killed after a reply's first delta and started again as `make up` starts it
(tests/faults/data_services.py): Postgres (mid-booking), PgBouncer, Kafka.
Prints one row per fault: messages accepted and answered, bookings requested and stored, what the
ledger found lost or doubled, the refusals clients saw, how long the killed process took to
be ready again, how long from the kill to the first reply a client got and, for a data service,
from starting it again to the first reply to a message sent while it was down.

    python bench/bench_faults.py [--conversations 4] [--trials 1] [--faults hub,agent,api,redis]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from pathlib import Path

import asyncpg
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the load driver is in tests/

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from tests.faults.data_services import DATA_TRIALS
from tests.faults.runtimes import loaded, private_platform
from tests.faults.scenarios import SCENARIOS, Outcome
from tests.faults.service_trials import SERVICE_TRIALS


async def trial(stack: StackEnv, fault: str, conversations: int) -> Outcome:
    if fault in DATA_TRIALS:  # on a Postgres, PgBouncer and Kafka of its own
        return await DATA_TRIALS[fault](stack, conversations)
    if fault in SERVICE_TRIALS:  # the relay, the operator, OpenBao, Keycloak, a row lock
        return await SERVICE_TRIALS[fault](stack, conversations)
    async with private_platform(stack) as platform:
        db = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
        try:
            async with loaded(platform, db, conversations) as load:
                return await SCENARIOS[fault](platform, load)
        finally:
            await db.close()


def row(fault: str, outcomes: list[Outcome]) -> str:
    accepted = sum(o.ledger.accepted for o in outcomes)
    answered = sum(o.ledger.answered for o in outcomes)
    problems = [p for o in outcomes for p in o.ledger.problems]
    refusals: Counter[str] = Counter()
    for outcome in outcomes:
        refusals.update(outcome.ledger.refusals)
    refused = ", ".join(f"{reason}: {n}" for reason, n in refusals.items()) or "none"
    restart = statistics.median(o.restart_seconds for o in outcomes)
    heal = [o.heal_seconds for o in outcomes]
    requested = sum(o.ledger.bookings for o in outcomes)
    booked = sum(o.ledger.booked for o in outcomes)
    after = [o.restart_to_reply for o in outcomes if o.restart_to_reply is not None]
    restart_to_reply = f"{statistics.median(after):.1f}" if after else "—"
    return (f"| {outcomes[0].fault} | {len(outcomes)} | {accepted} | {accepted - answered} | "
            f"{requested} | {booked} | "
            f"{len(problems)} | {sum(o.resent_parts for o in outcomes)} | {refused} | "
            f"{restart:.1f} | {statistics.median(heal):.1f} | {max(heal):.1f} | "
            f"{restart_to_reply} |")


async def main(conversations: int, trials: int, faults: list[str]) -> None:
    stack = StackEnv.load(DevstackSettings().env_file)
    print(f"{trials} trial(s) of each fault, {conversations} conversations each ...", flush=True)
    rows = []
    for fault in faults:
        outcomes = [await trial(stack, fault, conversations) for _ in range(trials)]
        for outcome in outcomes:
            for problem in outcome.ledger.problems:
                print(f"  {fault}: {problem}", flush=True)
        rows.append(row(fault, outcomes))
    print("| fault | trials | messages accepted | unanswered | bookings requested | stored | "
          "ledger problems (lost, doubled, "
          "gaps) | reply parts Kafka carried twice | refusals clients saw | restart s (median) "
          "| kill → first reply s (median) | (max) | restart → first reply s (median) |\n"
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: "
          "| ---: |")
    print("\n".join(rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=4,
                        help="conversations side by side")
    parser.add_argument("--trials", type=int, default=1, help="runs of each fault")
    faults = [*SCENARIOS, *SERVICE_TRIALS, *DATA_TRIALS]
    parser.add_argument("--faults", default=",".join(faults),
                        help=f"comma-separated, of {', '.join(faults)}")
    arguments = parser.parse_args()
    uvloop.run(main(arguments.conversations, arguments.trials, arguments.faults.split(",")))
