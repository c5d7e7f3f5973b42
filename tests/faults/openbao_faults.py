"""OpenBao faults under load, on an OpenBao of the fault platform's own: a file-backed server
made, started, initialised and unsealed by the stack's own code (devstack/services/openbao.py,
with a Context of its own folder and port), where the private tenant's transit key is made
and which the private runtimes use. Killing or sealing it touches nothing the stack or other
tests use. A killed OpenBao comes back sealed, and is unsealed as `make up` unseals it.

The runtimes hold each tenant's data keys unwrapped in memory: while OpenBao is sealed or
down they say they are not ready (Kubernetes stops routing to them) and go on with the keys
they hold."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import hvac

from simptu.devstack.envfile import StackEnv
from simptu.devstack.services.base import Context
from simptu.devstack.services.openbao import OpenBao
from simptu.devstack.settings import DevstackSettings
from tests.ports import free_port

from .data_services import ServiceRuntime
from .load import Load
from .runtimes import PrivatePlatform, private_platform
from .scenarios import Outcome, _first_answer_after, resent_parts, until_ready_is

NEED_OPENBAO = ["api", "ws", "agent"]  # whose /readyz checks it
DOWN = 3.0  # how long OpenBao stays sealed or down


@dataclass(kw_only=True)
class OpenBaoRuntime(ServiceRuntime):
    """The private OpenBao: ready once it listens and is unsealed (`make up`'s configure)."""

    async def ready(self) -> None:
        await super().ready()
        await self.service.configure(self.ctx)

    def seal(self) -> None:
        token = self.service.env(self.ctx)["BAO_TOKEN"]
        hvac.Client(url=self.service.endpoint(self.ctx), token=token, timeout=5).sys.seal()


@contextlib.asynccontextmanager
async def openbao_platform(stack: StackEnv) -> AsyncIterator[PrivatePlatform]:
    """The private platform (tests/faults/runtimes.py) with its tenant's transit key on a
    private OpenBao, `platform["openbao"]`; all removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="simptu-faults-bao-") as made:
        folder = Path(made)
        ctx = Context(DevstackSettings().model_copy(update={
            "state_dir": folder, "openbao_port": free_port()}))
        service = OpenBao()
        bao = OpenBaoRuntime("openbao", log=folder / "openbao.log", service=service, ctx=ctx)
        try:
            await asyncio.to_thread(service.prepare, ctx)
            await bao.start()
            async with private_platform(StackEnv(stack.values | service.env(ctx))) as platform:
                platform.runtimes["openbao"] = bao
                try:
                    yield platform
                finally:
                    if not bao.running:  # the tenant's key is removed through it
                        await bao.start()
                    del platform.runtimes["openbao"]
        finally:
            bao.stop()


async def _down_and_back(platform: PrivatePlatform, load: Load, fault: str,
                         take_down: str) -> Outcome:
    """OpenBao sealed or killed after a reply's first delta reached a client; the runtimes
    say they are not ready; a batch pushed while it is away; back after DOWN seconds (a killed
    one started and unsealed)."""
    bao = platform["openbao"]
    assert isinstance(bao, OpenBaoRuntime)
    await load.round()
    batch = await load.post()
    await load.accepted(batch)
    await load.first_delta(batch)
    away = time.monotonic()
    if take_down == "seal":
        await asyncio.to_thread(bao.seal)
    else:
        bao.kill()
    await until_ready_is(platform, NEED_OPENBAO, 503)
    during = await load.post()
    await load.attempt(during)  # once while it is away (refused ones are pushed again later)
    await asyncio.sleep(max(0.0, away + DOWN - time.monotonic()))
    started = time.monotonic()
    if take_down == "seal":
        await bao.service.configure(bao.ctx)  # unsealed as `make up` unseals it
    else:
        await bao.start()
    back = time.monotonic() - started
    await until_ready_is(platform, NEED_OPENBAO, 200)
    ready = time.monotonic() - started
    await load.accepted(during)
    await load.answered(batch)
    await load.answered(during)
    after = await load.round()
    return Outcome(f"{fault} (runtimes ready {ready:.1f} s after it is back)",
                   await load.check(), back,
                   _first_answer_after([batch, during, after], away), await resent_parts(platform))


async def openbao_sealed(platform: PrivatePlatform, load: Load) -> Outcome:
    return await _down_and_back(platform, load, "openbao sealed, then unsealed", "seal")


async def openbao_killed(platform: PrivatePlatform, load: Load) -> Outcome:
    return await _down_and_back(platform, load, "openbao killed, started, unsealed", "kill")
