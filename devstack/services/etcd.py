"""etcd 3.6, the store behind kube-apiserver, built from the Go module proxy."""

from __future__ import annotations

import httpx

from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, NotReady, Service
from simptu.devstack.toolchain.tools import ETCD


class Etcd(Service):
    name = "etcd"

    def client_url(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{ctx.settings.etcd_port}"

    def launch(self, ctx: Context) -> Launch:
        peer = f"http://{ctx.settings.host}:{ctx.settings.etcd_peer_port}"
        return Launch(argv=[
            str(ctx.tool_dir(ETCD) / "bin" / "etcd"),
            "--name=devstack", f"--data-dir={ctx.folder(self.name) / 'data'}",
            f"--listen-client-urls={self.client_url(ctx)}",
            f"--advertise-client-urls={self.client_url(ctx)}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=devstack={peer}", "--log-level=warn",
        ])

    async def probe(self, ctx: Context) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            health = (await client.get(f"{self.client_url(ctx)}/health")).json()
        if health.get("health") != "true":
            raise NotReady(f"/health answered {health}")

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_ETCD_URL": self.client_url(ctx)}

    def endpoint(self, ctx: Context) -> str:
        return self.client_url(ctx)
