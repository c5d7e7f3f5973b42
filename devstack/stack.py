"""Bringing the whole local stack up, down, and reporting on it.

`up` is idempotent: running services are left alone, dead ones are started again, and every
service is probed for readiness before `up` returns or names the one that failed.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Iterable
from pathlib import Path

from simptu.devstack.envfile import write_env_file
from simptu.devstack.images import PLATFORM_IMAGE_TOOL, last_platform_build
from simptu.devstack.processes import ManagedProcess
from simptu.devstack.reserved_ports import reserve_ports, stack_ports
from simptu.devstack.services import ALL_SERVICES
from simptu.devstack.services.base import Context, Service
from simptu.devstack.services.node import NODE_SERVICES
from simptu.devstack.settings import DevstackSettings
from simptu.devstack.toolchain.cache import locked
from simptu.devstack.toolchain.tools import ALL_TOOLS, HELM, NODE_TOOLS, Tool

BUSY = "  waiting: another `make up` or `make down` of this stack is under way"
PROBE_INTERVAL = 0.5
# A process that exits before it is ready is started again this often in all. A fixed port of
# the stack lies in the kernel's range for outgoing connections, so where the ports cannot be
# reserved (devstack/reserved_ports.py) a connection can hold one for a moment; a new start
# almost always finds it free.
START_ATTEMPTS = 3


def _with_node(node: bool) -> tuple[Service, ...]:
    """The stack's services; with the node, each tenant's agent runs as its own pods instead of
    the one local worker for every tenant (the `agent` service)."""
    if not node:
        return ALL_SERVICES
    return tuple(svc for svc in ALL_SERVICES if svc.name != "agent") + NODE_SERVICES


class ServiceFailed(RuntimeError):
    """A service did not become ready; the message names it and shows its log's tail."""


def waves(services: Iterable[Service]) -> list[list[Service]]:
    """Services grouped so that each group needs only services of earlier groups."""
    remaining = list(services)
    placed: set[str] = set()
    result: list[list[Service]] = []
    while remaining:
        wave = [svc for svc in remaining if set(svc.needs) <= placed]
        if not wave:
            raise ValueError(f"unsatisfiable needs among {[svc.name for svc in remaining]}")
        result.append(wave)
        placed |= {svc.name for svc in wave}
        remaining = [svc for svc in remaining if svc.name not in placed]
    return result


class Stack:
    def __init__(self, settings: DevstackSettings | None = None,
                 services: tuple[Service, ...] | None = None) -> None:
        self.ctx = Context(settings or DevstackSettings())
        # The node unless SIMPTU_NODE=0; `down` stops it whatever the setting.
        self.services = services or _with_node(self.ctx.settings.node)
        self.stoppable = services or ALL_SERVICES + NODE_SERVICES

    def process(self, service: Service) -> ManagedProcess:
        return ManagedProcess(service.name, self.ctx.settings.state_dir / "run")

    def ensure_tools(self, names: list[str] | None = None) -> None:
        known = (*ALL_TOOLS, *NODE_TOOLS)
        tools: list[Tool] = [*ALL_TOOLS, *NODE_TOOLS * self.ctx.settings.node] if names is None \
            else [t for t in known if t.name in names]
        if names is None and not self.ctx.settings.rebuild_images and last_platform_build(
                self.ctx.settings.tools_cache) is not None:
            tools = [tool for tool in tools if tool is not PLATFORM_IMAGE_TOOL]
        for tool in tools:
            started = time.monotonic()
            folder = tool.ensure(self.ctx.settings.tools_cache)
            print(f"  {tool.name:<10} {tool.version:<10} {folder}"
                  f"  ({time.monotonic() - started:.1f}s)", flush=True)

    def up(self) -> None:
        asyncio.run(self.up_async())

    async def up_async(self) -> None:
        """`up` for callers already inside an event loop. One `up` or `down` of a state folder
        at a time: two would both start a service, and one copy would run unrecorded."""
        with locked(self.ctx.settings.state_dir / "stack.lock", BUSY):
            await self._up()

    async def _up(self) -> None:
        await asyncio.to_thread(self.ensure_tools)
        # Services of the other kind of stack (the all-tenants agent once the node is on, the
        # node once SIMPTU_NODE=0) stop: `up` makes the stack the settings ask for.
        for service in reversed(self.stoppable):
            if service not in self.services and self.process(service).stop():
                print(f"  stopped  {service.name} (not part of this stack: "
                      f"SIMPTU_NODE={int(self.ctx.settings.node)})", flush=True)
                service.cleanup(self.ctx)
        if not reserve_ports(stack_ports(self.ctx.settings)):
            print("  note: the stack's ports could not be reserved from outgoing connections "
                  "(needs root); a service that cannot listen is started again", flush=True)
        for wave in waves(self.services):
            self.write_env()  # what a service of this wave needs from earlier ones
            await self._start_wave(wave)
        self.write_env()

    async def _start_wave(self, wave: list[Service]) -> None:
        for service in wave:
            proc = self.process(service)
            key, key_file = service.settings_key(self.ctx), self._key_file(service)
            if (proc.pid() is not None and key is not None
                    and (not key_file.exists() or key_file.read_text() != key)):
                proc.stop()
                print(f"  stopped  {service.name:<24} (started with other settings)",
                      flush=True)
            if proc.pid() is None:
                service.prepare(self.ctx)  # only before a start: a running service has it all
                pid = proc.start(service.launch(self.ctx))
                if key is not None:
                    key_file.write_text(key)
                print(f"  started  {service.name:<24} pid {pid}", flush=True)
        await asyncio.gather(*(self._become_ready(service) for service in wave))

    def _key_file(self, service: Service) -> Path:
        return self.ctx.settings.state_dir / "run" / f"{service.name}.settings-key"

    async def _become_ready(self, service: Service) -> None:
        started = time.monotonic()
        proc = self.process(service)
        deadline = started + self.ctx.settings.ready_timeout
        last_error = "no probe ran"
        attempts = 1
        while True:
            if proc.pid() is None:
                if attempts == START_ATTEMPTS:
                    raise ServiceFailed(self._failure(service, "its process exited"))
                attempts += 1
                pid = proc.start(service.launch(self.ctx))
                print(f"  restart  {service.name:<24} pid {pid} (its process exited;"
                      f" attempt {attempts} of {START_ATTEMPTS})", flush=True)
            try:
                await service.probe(self.ctx)
                await service.configure(self.ctx)
                break
            except Exception as error:
                last_error = f"{type(error).__name__}: {error}"
            if time.monotonic() > deadline:
                raise ServiceFailed(self._failure(service, f"not ready in time ({last_error})"))
            await asyncio.sleep(PROBE_INTERVAL)
        print(f"  ready    {service.name:<24} {service.endpoint(self.ctx):<34}"
              f" {time.monotonic() - started:5.1f}s", flush=True)

    def _failure(self, service: Service, why: str) -> str:
        proc = self.process(service)
        return (f"{service.name} failed: {why}\n--- last lines of {proc.log_file} ---\n"
                f"{proc.log_tail()}")

    def down(self) -> None:
        with locked(self.ctx.settings.state_dir / "stack.lock", BUSY):
            self._down()

    def _down(self) -> None:
        for service in reversed(self.stoppable):
            if self.process(service).stop():
                print(f"  stopped  {service.name}", flush=True)
            service.cleanup(self.ctx)

    def status(self) -> list[tuple[str, str, str]]:
        """(service, state, endpoint) for each service."""
        rows = []
        for service in self.services:
            pid = self.process(service).pid()
            state = f"running (pid {pid})" if pid else "stopped"
            rows.append((service.name, state, service.endpoint(self.ctx)))
        return rows

    def environment(self) -> dict[str, str]:
        values = {"SIMPTU_STATE_DIR": str(self.ctx.settings.state_dir),
                  "SIMPTU_NODE": "1" if self.ctx.settings.node else "0"}
        for service in self.services:
            values.update(service.env(self.ctx))
        values["SIMPTU_HELM"] = str(self.ctx.tool_dir(HELM) / "bin" / "helm")
        return values

    def write_env(self) -> None:
        write_env_file(self.ctx.settings.env_file, self.environment())

    def shell_exports(self) -> str:
        """The env file as `export` lines, plus the stack's tools on PATH."""
        values = self.environment()
        binaries = ("SIMPTU_KUBECTL", "SIMPTU_BAO", "SIMPTU_HELM")
        tool_dirs = sorted({str(Path(values[k]).parent) for k in binaries if k in values})
        lines = [f"export {key}={shlex.quote(value)}" for key, value in values.items()]
        lines.append(f'export PATH={shlex.quote(":".join(tool_dirs))}:"$PATH"')
        return "\n".join(lines)
