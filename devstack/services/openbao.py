"""OpenBao 2 (Vault-compatible) with file storage, initialised and unsealed by the stack.

The unseal key and root token live in the state folder (init.json, 0600): fine for a local
stack, never for production, where the chart uses auto-unseal.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from typing import Any

import hvac

from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, NotReady, Service
from simptu.devstack.toolchain.tools import OPENBAO

READINESS_KEY = "devstack-readiness"


class OpenBao(Service):
    name = "openbao"

    def address(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{ctx.settings.openbao_port}"

    def prepare(self, ctx: Context) -> None:
        home = ctx.folder(self.name)
        (home / "config.hcl").write_text(f"""\
storage "file" {{
  path = "{home / 'data'}"
}}
listener "tcp" {{
  address     = "{ctx.settings.host}:{ctx.settings.openbao_port}"
  tls_disable = true
}}
api_addr      = "{self.address(ctx)}"
disable_mlock = true
ui            = false
""")

    def launch(self, ctx: Context) -> Launch:
        return Launch(argv=[str(ctx.tool_dir(OPENBAO) / "bin" / "bao"), "server",
                            f"-config={ctx.folder(self.name) / 'config.hcl'}"])

    async def probe(self, ctx: Context) -> None:
        # Any answer of sys/health means the server listens; init and unseal come next.
        await asyncio.to_thread(self._client(ctx).sys.read_health_status, method="GET")

    def _client(self, ctx: Context, token: str | None = None) -> hvac.Client:
        return hvac.Client(url=self.address(ctx), token=token, timeout=5)

    def _init_record(self, ctx: Context) -> dict[str, Any]:
        record = ctx.folder(self.name) / "init.json"
        return json.loads(record.read_text()) if record.exists() else {}

    async def configure(self, ctx: Context) -> None:
        await asyncio.to_thread(self._configure, ctx)

    def _configure(self, ctx: Context) -> None:
        client = self._client(ctx)
        if not client.sys.is_initialized():
            result = client.sys.initialize(secret_shares=1, secret_threshold=1)
            record = ctx.folder(self.name) / "init.json"
            fd = os.open(record, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump({"unseal_key": result["keys_base64"][0],
                           "root_token": result["root_token"]}, out)
        init = self._init_record(ctx)
        if not init:
            raise NotReady("OpenBao is initialised but init.json (unseal key) is missing")
        if client.sys.is_sealed():
            client.sys.submit_unseal_key(key=init["unseal_key"])
        admin = self._client(ctx, init["root_token"])
        if "transit/" not in admin.sys.list_mounted_secrets_engines()["data"]:
            admin.sys.enable_secrets_engine("transit", path="transit")
        self._transit_round_trip(admin)

    def _transit_round_trip(self, admin: hvac.Client) -> None:
        admin.secrets.transit.create_key(name=READINESS_KEY)
        plaintext = base64.b64encode(b"devstack").decode()
        sealed = admin.secrets.transit.encrypt_data(name=READINESS_KEY, plaintext=plaintext)
        opened = admin.secrets.transit.decrypt_data(
            name=READINESS_KEY, ciphertext=sealed["data"]["ciphertext"])
        if opened["data"]["plaintext"] != plaintext:
            raise NotReady("transit decrypt did not return what was encrypted")

    def env(self, ctx: Context) -> dict[str, str]:
        token = self._init_record(ctx).get("root_token", "")
        address = self.address(ctx)
        # The platform's (SIMPTU_BAO_*), and the bao/vault command line's own names.
        return {"SIMPTU_BAO_ADDR": address, "SIMPTU_BAO_TOKEN": token,
                "BAO_ADDR": address, "VAULT_ADDR": address, "BAO_TOKEN": token,
                "VAULT_TOKEN": token,
                "SIMPTU_BAO": str(ctx.tool_dir(OPENBAO) / "bin" / "bao")}

    def endpoint(self, ctx: Context) -> str:
        return self.address(ctx)
