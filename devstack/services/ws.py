"""The WebSocket hub (`python -m simptu.runtime.ws`) as a local process on port 4000; it
verifies guest tokens with the secret the API signs them with."""

from __future__ import annotations

import sys

from simptu.devstack.envfile import read_env_file
from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, Service, expect_http_ok


class WsHub(Service):
    name = "ws"
    needs = ("postgres", "redis", "kafka", "openbao", "keycloak", "operator", "api")

    def url(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{ctx.settings.ws_port}"

    def launch(self, ctx: Context) -> Launch:
        env = read_env_file(ctx.settings.env_file)
        env.update(self.env(ctx), SIMPTU_WS_HOST=ctx.settings.host)
        return Launch(argv=[sys.executable, "-m", "simptu.runtime.ws"], env=env)

    async def probe(self, ctx: Context) -> None:
        await expect_http_ok(f"{self.url(ctx)}/readyz")

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_WS_URL": f"ws://{ctx.settings.host}:{ctx.settings.ws_port}/socket",
                "SIMPTU_WS_PORT": str(ctx.settings.ws_port)}

    def endpoint(self, ctx: Context) -> str:
        return f"ws://{ctx.settings.host}:{ctx.settings.ws_port}/socket/websocket"

    def hint(self, ctx: Context) -> str:
        return (f"WS hub: ws://{ctx.settings.host}:{ctx.settings.ws_port}/socket "
                "(Phoenix Channels; join chat:<session_id> with a guest token from "
                "POST /v1/chat/guest)")
