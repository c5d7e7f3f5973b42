"""`python -m simptu.operator` as a separate process, the way it runs in a pod, with `make up`'s
operator settings (it handles the demo tenants too while it runs)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from simptu.devstack.envfile import StackEnv
from simptu.devstack.services.operator import stack_operator_settings
from tests.ports import free_port


def priority_above_every_earlier_peer() -> int:
    """A killed peer's record lingers for a minute, and Kopf pauses an operator while a peer of
    the same or higher priority is listed: a priority from the clock is above all earlier ones."""
    return int(time.time() * 10) % 10**9


class OperatorProcess:
    """One operator replica on a port of its own (`free_port`), its output kept in `log`."""

    def __init__(self, stack: StackEnv, log: Path, priority: int | None = None) -> None:
        self.port = free_port()
        self.log = log
        self.priority = priority
        self.env = {**os.environ, **stack.values, **stack_operator_settings(stack.node),
                    "SIMPTU_OPERATOR_PORT": str(self.port)}
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        priority = self.priority if self.priority is not None else (
            priority_above_every_earlier_peer())
        with self.log.open("ab") as output:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "simptu.operator",
                env={**self.env, "SIMPTU_OPERATOR_PRIORITY": str(priority)},
                stdout=output, stderr=output)
        async with httpx.AsyncClient(timeout=2) as http:
            for _ in range(480):  # 2 minutes: discovery and migrations are slow on a busy machine
                if self.proc.returncode is not None:
                    pytest.fail(f"the operator exited ({self.proc.returncode}):\n{self._tail()}")
                try:
                    if (await http.get(f"http://127.0.0.1:{self.port}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.25)
        pytest.fail(f"the operator did not answer /healthz within 2 minutes:\n{self._tail()}")

    def _tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    async def reconciles(self) -> float:
        """How many reconciliations this process has run (its Prometheus counter)."""
        async with httpx.AsyncClient(timeout=5) as http:
            text = (await http.get(f"http://127.0.0.1:{self.port}/metrics")).text
        return sum(float(line.split()[-1]) for line in text.splitlines()
                   if line.startswith("simptu_operator_reconciles_total{"))

    async def stop(self) -> None:
        """SIGTERM: a graceful exit, which withdraws the peering record at once."""
        await self._signal(signal.SIGTERM)

    async def kill(self) -> None:
        await self._signal(signal.SIGKILL)

    async def _signal(self, which: signal.Signals) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.send_signal(which)
            await self.proc.wait()
