"""The WebSocket hub (`python -m simptu.runtime.ws`) as a local process on port 4000; it
verifies guest tokens with the secret the API signs them with."""

from __future__ import annotations

from simptu.devstack.services.base import Context, PlatformProcess
from simptu.devstack.services.kafka import Kafka


class WsHub(PlatformProcess):
    name = "ws"
    needs = ("postgres", "redis", "kafka", "openbao", "keycloak", "operator", "api")
    module = "simptu.runtime.ws"

    def url(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{ctx.settings.ws_port}"

    def own_env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_WS_HOST": ctx.settings.host, **Kafka().login_env(ctx, "simptu-ws")}

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_WS_URL": f"ws://{ctx.settings.host}:{ctx.settings.ws_port}/socket",
                "SIMPTU_WS_PORT": str(ctx.settings.ws_port)}

    def endpoint(self, ctx: Context) -> str:
        return f"ws://{ctx.settings.host}:{ctx.settings.ws_port}/socket/websocket"

    def hint(self, ctx: Context) -> str:
        return (f"WS hub: ws://{ctx.settings.host}:{ctx.settings.ws_port}/socket "
                "(Phoenix Channels; join chat:<session_id> with a guest token from "
                "POST /v1/chat/guest)")
