"""Redis 7 from Debian, password-protected and persisted with an append-only file."""

from __future__ import annotations

import redis.asyncio as aioredis

from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, NotReady, Service


class Redis(Service):
    name = "redis"

    def prepare(self, ctx: Context) -> None:
        home = ctx.folder(self.name)
        (home / "data").mkdir(exist_ok=True)
        config = home / "redis.conf"
        config.write_text("\n".join([
            f"bind {ctx.settings.host}",
            f"port {ctx.settings.redis_port}",
            "protected-mode yes",
            "daemonize no",
            f"dir {home / 'data'}",
            "appendonly yes",
            "appendfsync always",  # a killed server loses no acknowledged write
            f"requirepass {ctx.secret('redis_password')}",
            "",
        ]))
        config.chmod(0o600)

    def launch(self, ctx: Context) -> Launch:
        return Launch(argv=["/usr/bin/redis-server", str(ctx.folder(self.name) / "redis.conf")])

    def url(self, ctx: Context) -> str:
        return f"redis://default:{ctx.secret('redis_password')}@{ctx.settings.host}:{ctx.settings.redis_port}/0"

    async def probe(self, ctx: Context) -> None:
        client = aioredis.Redis.from_url(self.url(ctx), socket_timeout=5)
        try:
            await client.set("devstack:readiness", "ok", ex=60)
            if await client.get("devstack:readiness") != b"ok":
                raise NotReady("SET then GET did not return the value")
        finally:
            await client.aclose()

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_REDIS_URL": self.url(ctx)}

    def endpoint(self, ctx: Context) -> str:
        return f"{ctx.settings.host}:{ctx.settings.redis_port}"
