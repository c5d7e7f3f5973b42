"""Private instances of the platform for fault tests and the fault bench: the same code as the
stack's runtimes (`python -m simptu.runtime.api|ws|agent`, the outbox relay), on the stack's env
file but on ports of their own and with a Redis of their own, serving one tenant of their own.
Killing them (SIGKILL) touches nothing the stack or other tests use: the stack's agent and relay
leave the tenant to its own worker and relay, and the stack's hub, which reads every Ready
tenant's topics, writes its resume log and claims to the stack's Redis, not to the private one."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import asyncpg
import httpx
import redis.asyncio as aioredis

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.crypto import OpenBaoTransit
from simptu.runtime.core.kafka_access import KafkaAccess
from simptu.runtime.core.redis_client import connect_redis
from simptu.runtime.core.registry import TenantAgent, TenantRegistry, upsert_tenant
from simptu.runtime.core.settings import CoreSettings
from tests.integration.agent.conftest import TIMEZONE, AgentTenant, provision, unprovision
from tests.integration.ws.phoenix_driver import PhoenixDriver, node_client_dir
from tests.ports import free_port

from .load import Load, bookings_of

START_TIMEOUT = 90.0  # bound on a runtime's start (the agent loads its model first)
# A folder where each private platform's logs are copied when it is removed (to read after a
# failure); unset, the logs go with the platform's temporary folder.
KEEP_LOGS = os.environ.get("SIMPTU_FAULTS_KEEP_LOGS")
WEB_ORIGIN = "https://faults.simptu.test"


@dataclass
class Runtime:
    """One process, started again with the same command after a kill."""

    name: str
    argv: list[str]
    env: dict[str, str]
    ready_url: str  # /readyz of a runtime, or the URL of a Redis that must answer PING
    log: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    def launch(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.argv, env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT)
        self.started_at = time.monotonic()

    async def start(self) -> float:
        """Launch and wait until ready; the seconds it took."""
        self.launch()
        await self.ready()
        return time.monotonic() - self.started_at

    async def ready(self) -> None:
        assert self.process is not None
        async with asyncio.timeout(START_TIMEOUT), httpx.AsyncClient(timeout=2) as http:
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(f"{self.name} exited at start; see {self.log}")
                if self.ready_url.startswith("redis://"):
                    await redis_answers(self.ready_url)
                    return
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(self.ready_url)).status_code == 200:
                        return
                await asyncio.sleep(0.1)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no offsets committed, no group left."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


# What every fault test runs; the second replicas only the faults that need them.
ALWAYS = ("redis", "relay", "api", "ws", "agent")
SECOND_REPLICAS = ("ws2", "agent2")


@dataclass
class PrivatePlatform:
    """A Redis, an outbox relay, an API, a hub and an agent worker of one private tenant (the
    stack's relay leaves `*-faults` tenants to theirs), and on demand a
    second hub and a second agent worker (the same consumer group)."""

    tenant: AgentTenant
    folder: Path
    kafka: KafkaAccess
    ports: dict[str, int] = field(default_factory=lambda: {
        name: free_port() for name in (*ALWAYS, *SECOND_REPLICAS)})
    runtimes: dict[str, Runtime] = field(default_factory=dict)

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.ports['redis']}/0"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    def hub_url(self, name: str = "ws") -> str:
        return f"ws://127.0.0.1:{self.ports[name]}/socket"

    @property
    def ws_url(self) -> str:
        return self.hub_url()

    def __getitem__(self, name: str) -> Runtime:
        return self.runtimes[name]

    async def ensure_running(self) -> None:
        """Start whatever a fault left stopped (in dependency order); stop second replicas
        a fault started."""
        for name in SECOND_REPLICAS:
            self.runtimes[name].stop()
        for name in ALWAYS:
            if not self.runtimes[name].running:
                await self.runtimes[name].start()

    def stop(self) -> None:
        for runtime in reversed(list(self.runtimes.values())):
            runtime.stop()


def _runtimes(stack: StackEnv, platform: PrivatePlatform, group: str,
              overrides: dict[str, str], agent_overrides: dict[str, str],
              ) -> dict[str, Runtime]:
    env = {**os.environ, **stack.values, **overrides, "SIMPTU_REDIS_URL": platform.redis_url,
           "SIMPTU_API_PORT": str(platform.ports["api"]),
           "SIMPTU_API_GUEST_RATE_LIMIT": "10000", "SIMPTU_AGENT_GROUP_ID": group,
           "SIMPTU_AGENT_TENANT_REFRESH_SECONDS": "1"}
    python = sys.executable
    folder = platform.folder
    port = platform.ports

    def hub(name: str) -> Runtime:
        return Runtime(name, [python, "-m", "simptu.runtime.ws"],
                       {**env, "SIMPTU_WS_PORT": str(port[name])},
                       f"http://127.0.0.1:{port[name]}/readyz", folder / f"{name}.log")

    def agent(name: str) -> Runtime:
        return Runtime(name, [python, "-m", "simptu.runtime.agent", "--tenant",
                              platform.tenant.slug, "--port", str(port[name])],
                       {**env, **agent_overrides},
                       f"http://127.0.0.1:{port[name]}/readyz", folder / f"{name}.log")

    relay = f"http://127.0.0.1:{port['relay']}/metrics"  # answers once it runs
    return {
        "relay": Runtime("relay", [python, "-m", "simptu.runtime.core.events", "relay",
                                   "--metrics-port", str(port["relay"])],
                         {**env, "SIMPTU_OUTBOX_TENANTS": platform.tenant.slug,
                          "SIMPTU_OUTBOX_POLL_INTERVAL": "1.0"}, relay, folder / "relay.log"),
        "redis": Runtime("redis", [
            "/usr/bin/redis-server", "--bind", "127.0.0.1", "--port", str(port["redis"]),
            "--dir", str(folder), "--appendonly", "yes", "--appendfsync", "always",
            "--save", ""], env, platform.redis_url, folder / "redis.log"),
        "api": Runtime("api", [python, "-m", "simptu.runtime.api"], env,
                       f"{platform.api_url}/readyz", folder / "api.log"),
        "ws": hub("ws"), "agent": agent("agent"), "ws2": hub("ws2"), "agent2": agent("agent2"),
    }


def keep_logs(folder: Path, name: str) -> None:
    """Copy the `*.log` files of `folder` to KEEP_LOGS/`name`, when KEEP_LOGS is set."""
    if KEEP_LOGS:
        kept = Path(KEEP_LOGS) / name
        kept.mkdir(parents=True, exist_ok=True)
        for log in folder.glob("*.log"):
            shutil.copy(log, kept / log.name)


async def redis_answers(url: str) -> None:
    client = connect_redis(url)
    try:
        async with asyncio.timeout(START_TIMEOUT):
            while True:
                with contextlib.suppress(aioredis.RedisError, OSError):
                    await client.ping()
                    return
                await asyncio.sleep(0.05)
    finally:
        await client.aclose()


def settings_of(stack: StackEnv) -> CoreSettings:
    """The runtimes' settings for the local stack (as tests/conftest.py's `core_settings`)."""
    return CoreSettings.model_validate(
        {key.removeprefix("SIMPTU_").lower(): value for key, value in stack.values.items()}
        | {"bao_addr": stack["BAO_ADDR"], "bao_auth": "token", "bao_token": stack["BAO_TOKEN"]})


@contextlib.asynccontextmanager
async def private_platform(stack: StackEnv, env: dict[str, str] | None = None, *,
                           agent_env: dict[str, str] | None = None,
                           ) -> AsyncIterator[PrivatePlatform]:
    """A dental clinic of its own (`t<hex>-faults`: the stack's agent leaves it alone) with
    its own runtimes; all removed afterwards. The tenant is provisioned on `stack`'s Postgres
    and Kafka; `env` overrides settings of the runtimes alone (e.g. a pooler's URL), `agent_env`
    those of the agent workers (e.g. a direct URL: the checkpointer prepares statements)."""
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
    redis = connect_redis(stack.redis_url)
    try:
        async with _platform(stack, pool, redis, settings_of(stack), env or {},
                             agent_env or {}) as platform:
            yield platform
    finally:
        await redis.aclose()
        await pool.close()


@contextlib.asynccontextmanager
async def _platform(stack: StackEnv, db: asyncpg.Pool, redis: aioredis.Redis,
                    settings: CoreSettings, env: dict[str, str],
                    agent_env: dict[str, str]) -> AsyncIterator[PrivatePlatform]:
    unique = f"t{uuid.uuid4().hex[:10]}"
    transit = OpenBaoTransit.from_settings(settings)
    async with db.acquire() as conn:
        tenant = await provision(conn, redis, transit, settings.kafka,
                                 f"{unique}-faults", "dental-clinic", TenantAgent())
        record = await TenantRegistry(db, redis).require_ready(tenant.slug)
        await upsert_tenant(conn, redis, record.model_copy(update={"web_origins": [WEB_ORIGIN]}))
    with tempfile.TemporaryDirectory(prefix="simptu-faults-") as folder:
        platform = PrivatePlatform(tenant, Path(folder), settings.kafka)
        platform.runtimes = _runtimes(stack, platform, f"{unique}-agent", env,
                                       agent_env)
        try:
            await platform.ensure_running()
            yield platform
        finally:
            platform.stop()
            keep_logs(Path(folder), unique)
            async with db.acquire() as conn:
                await unprovision(conn, redis, transit, settings.kafka, tenant)


@contextlib.asynccontextmanager
async def loaded(platform: PrivatePlatform, db: asyncpg.Pool,
                 conversations: int) -> AsyncIterator[Load]:
    """`conversations` phoenix.js conversations open on the platform's tenant; the ledger reads
    its bookings from `db` (the Postgres the platform's tenant lives in)."""
    phoenix = await PhoenixDriver.start(node_client_dir())
    try:
        load = Load(phoenix, platform.api_url, platform.ws_url, platform.tenant.slug,
                    WEB_ORIGIN, partial(bookings_of, db, platform.tenant.names, TIMEZONE))
        await load.open(conversations)
        yield load
    finally:
        await phoenix.close()
