"""Data services killed under load, on a data tier of the fault platform's own: a PostgreSQL
cluster (initdb in a temporary folder), a PgBouncer in transaction mode in front of it and a
one-node Kafka, each made and launched by the stack's own code (devstack/services: the same
prepare, command line and readiness probe as `make up`, with a Context of its own folder and
ports). The private tenant is provisioned there and the private runtimes use them: the API,
the hub and the outbox relay through PgBouncer (as a deployment behind a pooler runs them),
the agent directly (its checkpointer prepares statements, which a transaction-mode PgBouncer
1.18 cannot carry), all on the private Kafka. Killing them (SIGKILL to the whole process
group, as a container is killed) touches nothing the stack or other tests use.

Each fault is injected after a reply's first delta reached a client: the service is killed,
the runtimes that need it are seen to say they are not ready, a second batch of messages is
pushed while it is down (refused with a retryable reason, or accepted and kept), and the
service is started again the way `make up` starts it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from simptu.devstack.envfile import StackEnv
from simptu.devstack.processes import _primary_group
from simptu.devstack.services.base import Context, Service
from simptu.devstack.services.kafka import Kafka
from simptu.devstack.services.pgbouncer import PgBouncer
from simptu.devstack.services.postgres import Postgres
from simptu.devstack.settings import DevstackSettings
from simptu.runtime.core.migrations import migrate_platform
from tests.ports import free_port

from .load import Booking, Load, Sent
from .runtimes import (
    START_TIMEOUT,
    PrivatePlatform,
    Runtime,
    keep_logs,
    loaded,
    private_platform,
)
from .scenarios import Outcome, Scenario, resent_parts, until_ready_is

DOWN = 3.0  # how long a killed data service stays down before it is started again
GONE_TIMEOUT = 10.0  # bound on a killed process group's last process going away
DATA_SERVICES = ("postgres", "pgbouncer", "kafka")


@dataclass(kw_only=True)
class ServiceRuntime(Runtime):
    """A data service of the stack's (devstack/services), launched and probed by its own code;
    killed and stopped as a whole process group (Postgres's backends with its postmaster)."""

    service: Service
    ctx: Context
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    ready_url: str = ""
    start_timeout: float = START_TIMEOUT  # bound on its start, to its probe's first success

    def launch(self) -> None:
        how = self.service.launch(self.ctx)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                how.argv, env={**os.environ, **how.env}, cwd=how.cwd, user=how.user,
                group=_primary_group(how.user), start_new_session=True,
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        self.started_at = time.monotonic()

    async def ready(self) -> None:
        assert self.process is not None
        async with asyncio.timeout(self.start_timeout):
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(f"{self.name} exited at start; see {self.log}")
                try:
                    await self.service.probe(self.ctx)
                    return
                except Exception:  # not ready yet, whatever the probe says
                    await asyncio.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL to every process of the service at once, then wait until they are gone (a
        new postmaster refuses to start beside a backend of the old one)."""
        if self.process is None or self.process.poll() is not None:
            return
        group = self.process.pid
        os.killpg(group, signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + GONE_TIMEOUT
        while time.monotonic() < deadline and _group_alive(group):
            time.sleep(0.05)

    def stop(self) -> None:
        self.kill()  # its data is thrown away with the folder


def _group_alive(group: int) -> bool:
    """Whether a process of the group is still running (zombies do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group and fields[0] != "Z":
                return True
    return False


@dataclass
class DataTier:
    """The private Postgres, PgBouncer and Kafka, and how clients reach them."""

    ctx: Context
    runtimes: dict[str, ServiceRuntime]

    @property
    def database_url(self) -> str:
        return Postgres().url(self.ctx)

    @property
    def pooler_url(self) -> str:
        return PgBouncer().url(self.ctx)

    @property
    def kafka_bootstrap(self) -> str:
        return Kafka().bootstrap(self.ctx)

    async def start(self) -> None:
        """Each service made (initdb, Kafka's storage formatted) and started, in order, and
        the platform's registry migrated, as `make up` and `simptu migrate` do."""
        for runtime in self.runtimes.values():
            await asyncio.to_thread(runtime.service.prepare, self.ctx)
            await runtime.start()
            await runtime.service.configure(self.ctx)  # Postgres: the platform's database
        conn = await asyncpg.connect(self.database_url)
        try:
            await migrate_platform(conn)
        finally:
            await conn.close()

    def stop(self) -> None:
        for runtime in reversed(self.runtimes.values()):
            runtime.stop()


def data_tier(folder: Path) -> DataTier:
    folder.chmod(0o711)  # Postgres and PgBouncer run as `postgres`, in it
    settings = DevstackSettings().model_copy(update={
        "state_dir": folder, "postgres_port": free_port(), "pgbouncer_port": free_port(),
        "kafka_port": free_port(), "kafka_controller_port": free_port()})
    ctx = Context(settings)
    services: list[Service] = [Postgres(), PgBouncer(), Kafka()]
    return DataTier(ctx, {service.name: ServiceRuntime(
        service.name, log=folder / f"{service.name}.log", service=service, ctx=ctx)
        for service in services})


@dataclass
class DataPlatform:
    """The private platform on the private data tier, and a pool on its Postgres."""

    platform: PrivatePlatform
    tier: DataTier
    db: asyncpg.Pool

    async def ensure_running(self) -> None:
        for runtime in self.tier.runtimes.values():
            if not runtime.running:
                await runtime.start()
        await self.platform.ensure_running()


@contextlib.asynccontextmanager
async def private_data_platform(stack: StackEnv) -> AsyncIterator[DataPlatform]:
    """The private platform (tests/faults/runtimes.py) with its tenant on a private data tier;
    all removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="simptu-faults-data-") as made:
        folder = Path(made)
        tier = data_tier(folder)
        try:
            await tier.start()
            # The private broker's address and, when the stack's Kafka runs SASL
            # (SIMPTU_KAFKA_SASL), its admin's login: the same setup as the stack's.
            provisioning = StackEnv(stack.values | {
                "SIMPTU_DATABASE_URL": tier.database_url, **Kafka().env(tier.ctx)})
            pooled = {"SIMPTU_DATABASE_URL": tier.pooler_url,
                      "SIMPTU_DATABASE_STATEMENT_CACHE_SIZE": "0",
                      "SIMPTU_OUTBOX_LISTEN_DATABASE_URL": tier.database_url}
            direct = {"SIMPTU_DATABASE_URL": tier.database_url}
            async with private_platform(provisioning, pooled, agent_env=direct) as platform:
                platform.runtimes.update(tier.runtimes)  # for the scenarios to kill
                db = await asyncpg.create_pool(tier.database_url, min_size=1, max_size=2)
                made_platform = DataPlatform(platform, tier, db)
                try:
                    yield made_platform
                finally:
                    await made_platform.ensure_running()  # the tenant is removed through them
                    await db.close()
                    for name in tier.runtimes:  # stopped after the runtimes, by the tier
                        del platform.runtimes[name]
        finally:
            tier.stop()
            keep_logs(folder, f"{folder.name}-data")


def _first_answer_after(batch: list[Sent], moment: float) -> float:
    """Seconds from `moment` to the first reply to the messages pushed while the service was
    down (a reply is timed when the load reads it: the first one as it arrives)."""
    answered = [sent.answered_at for sent in batch
                if sent.answered_at is not None and sent.answered_at > moment]
    return min(answered, default=float("inf")) - moment


async def killed_mid_reply(platform: PrivatePlatform, load: Load, name: str,
                           not_ready: list[str], *, booking: bool = False) -> Outcome:
    """`name` killed after a reply's first delta reached a client (with `booking`, the
    answer to a booking's confirmation: the turn that makes the booking); the runtimes in
    `not_ready` say so; a batch pushed while it is down (each push refused with a retryable
    reason is pushed again, as the page does); `name` started again after DOWN seconds."""
    await load.round()
    bookings: list[Booking] = []
    if booking:
        bookings = await load.request_bookings()
        mark = len(load.phoenix.seen)
        await load.confirm(bookings)
        await load.first_delta([made.request for made in bookings], mark)
        batch: list[Sent] = []
    else:
        batch = await load.post()
        await load.accepted(batch)
        await load.first_delta(batch)
    killed = time.monotonic()
    platform[name].kill()
    await until_ready_is(platform, not_ready, 503)
    during = await load.post()
    await load.attempt(during)  # once while it is down
    await asyncio.sleep(max(0.0, killed + DOWN - time.monotonic()))
    restart = await platform[name].start()
    restarted = platform[name].started_at
    await load.accepted(during)
    await load.answered(during)  # first: the replies a client waits for since the kill
    await load.answered(batch)
    await load.confirmed(bookings)
    await until_ready_is(platform, not_ready, 200)
    await load.round()
    moment = "mid-booking" if booking else "mid-reply"
    return Outcome(f"{name} killed {moment}", await load.check(), restart,
                   _first_answer_after(during, killed), await resent_parts(platform),
                   _first_answer_after(during, restarted))


async def postgres_killed(platform: PrivatePlatform, load: Load) -> Outcome:
    return await killed_mid_reply(platform, load, "postgres", ["api", "ws", "agent"],
                                  booking=True)


async def pgbouncer_killed(platform: PrivatePlatform, load: Load) -> Outcome:
    return await killed_mid_reply(platform, load, "pgbouncer", ["api", "ws"])


async def kafka_killed(platform: PrivatePlatform, load: Load) -> Outcome:
    return await killed_mid_reply(platform, load, "kafka", ["ws", "agent"])


# Run on `private_data_platform`, not on the stack's data services.
DATA_SCENARIOS: dict[str, Scenario] = {
    "postgres": postgres_killed, "pgbouncer": pgbouncer_killed, "kafka": kafka_killed}


async def _trial(fault: str, stack: StackEnv, conversations: int) -> Outcome:
    """One trial of a data fault for `bench/bench_faults.py`, on a data platform of its own."""
    async with (private_data_platform(stack) as data,
                loaded(data.platform, data.db, conversations) as load):
        return await DATA_SCENARIOS[fault](data.platform, load)


def _trial_of(fault: str) -> Callable[[StackEnv, int], Awaitable[Outcome]]:
    async def trial(stack: StackEnv, conversations: int) -> Outcome:
        return await _trial(fault, stack, conversations)
    return trial


DATA_TRIALS = {fault: _trial_of(fault) for fault in DATA_SCENARIOS}
