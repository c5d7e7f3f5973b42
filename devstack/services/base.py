"""What every service of the local stack provides, and the context it is given."""

from __future__ import annotations

import json
import secrets
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import httpx

from simptu.devstack.envfile import platform_env
from simptu.devstack.processes import Launch
from simptu.devstack.settings import DevstackSettings
from simptu.devstack.toolchain.tools import Tool


class NotReady(Exception):
    """A readiness probe did not pass yet; the message says what was seen."""


async def expect_http_ok(url: str) -> None:
    """The probe of a service with an HTTP health or metrics endpoint: it answers 200."""
    async with httpx.AsyncClient(timeout=5) as client:
        answer = await client.get(url)
    if answer.status_code != 200:
        raise NotReady(f"{url} answered {answer.status_code}: {answer.text[:300]}")


@dataclass(frozen=True)
class Context:
    settings: DevstackSettings

    def folder(self, service: str) -> Path:
        path = self.settings.service_dir(service)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def tool_dir(self, tool: Tool) -> Path:
        """Where a tool lives in the cache (`Stack.up` obtains every tool before starting)."""
        return tool.folder(self.settings.tools_cache)

    def secret(self, name: str, nbytes: int = 18) -> str:
        """A generated credential, made once per state folder and kept in secrets.json (0600)."""
        store = self.settings.state_dir / "secrets.json"
        values: dict[str, str] = json.loads(store.read_text()) if store.exists() else {}
        if name not in values:
            values[name] = secrets.token_urlsafe(nbytes)
            store.parent.mkdir(parents=True, exist_ok=True)
            store.write_text(json.dumps(values, indent=2))
            store.chmod(0o600)
        return values[name]


class Service(ABC):
    """One process of the stack: how to prepare, start, probe and configure it."""

    name: str
    needs: tuple[str, ...] = ()

    def prepare(self, ctx: Context) -> None:  # noqa: B027 - optional step
        """Create what the process needs before it starts (data dirs, configs); idempotent."""

    @abstractmethod
    def launch(self, ctx: Context) -> Launch:
        """The command line that runs the service in the foreground."""

    @abstractmethod
    async def probe(self, ctx: Context) -> None:
        """One readiness check; raises NotReady (or any connection error) until it passes."""

    async def configure(self, ctx: Context) -> None:  # noqa: B027 - optional step
        """Idempotent set-up once the service answers (databases, unseal, engines)."""

    def cleanup(self, ctx: Context) -> None:  # noqa: B027 - optional step
        """Remove what the stopped process leaves on the machine (mounts, links, cgroups)."""

    def env(self, ctx: Context) -> dict[str, str]:
        """What clients need to reach it, written to the stack's env file."""
        return {}

    def settings_key(self, ctx: Context) -> str | None:
        """What a running process must have been started with: `up` restarts one started with
        another key (or before keys were kept). None: any running process will do."""
        return None

    def endpoint(self, ctx: Context) -> str:
        """Where it listens, for `make status`."""
        return ""

    def hint(self, ctx: Context) -> str:
        """What `make up` tells a newcomer about using it, if anything."""
        return ""


def kafka_mode_key(ctx: Context) -> str:
    """Whether the broker takes logins: a Kafka client started for the other mode (no login,
    or a login a plaintext broker ignores) is restarted by `up` with its login.
    """
    return f"kafka_sasl={int(ctx.settings.kafka_sasl)}"


class PlatformProcess(Service):
    """One of the platform's own processes, `python -m <module> <args>`, run with the stack's
    settings (the env file) and its own; ready once `<url>/readyz` answers 200."""

    module: str
    args: tuple[str, ...] = ()

    @abstractmethod
    def url(self, ctx: Context) -> str: ...

    def own_env(self, ctx: Context) -> dict[str, str]:
        """Settings of this process alone, which the stack's env file does not get."""
        return {}

    def launch(self, ctx: Context) -> Launch:
        env = platform_env(ctx.settings.env_file) | self.env(ctx) | self.own_env(ctx)
        return Launch(argv=[sys.executable, "-m", self.module, *self.args], env=env)

    def settings_key(self, ctx: Context) -> str:
        return kafka_mode_key(ctx)

    async def probe(self, ctx: Context) -> None:
        await expect_http_ok(f"{self.url(ctx)}/readyz")
