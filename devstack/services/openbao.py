"""OpenBao 2 (Vault-compatible) with file storage, initialised and unsealed by the stack.

The unseal key and root token live in the state folder (init.json, 0600): fine for a local
stack, never for production, where the chart uses auto-unseal. The root token bootstraps
(transit, the platform's policies and AppRoles) and stays with the stack's tools and tests: the
runtimes log in with the AppRole `simptu-runtime`, the operator with `simptu-operator`
(approle.json, 0600), tenants' agents with Kubernetes auth.
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
from simptu.vault.bootstrap import (
    AppRoleLogin,
    ensure_approle,
    logs_in,
    new_secret_id,
    write_platform_policies,
)
from simptu.vault.policies import OPERATOR_POLICY, RUNTIME_POLICY

READINESS_KEY = "devstack-readiness"
# The AppRoles of the platform's processes: the runtimes' and the operator's.
PLATFORM_ROLES = {"runtime": ("simptu-runtime", RUNTIME_POLICY),
                  "operator": ("simptu-operator", OPERATOR_POLICY)}


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
        self._platform_logins(ctx, admin)

    def _platform_logins(self, ctx: Context, admin: hvac.Client) -> None:
        """The platform's policies and AppRoles; a secret id is made again only when OpenBao
        no longer takes the kept one."""
        write_platform_policies(admin)
        kept = self._approle_record(ctx)
        record = {}
        for who, (role, policy) in PLATFORM_ROLES.items():
            role_id = ensure_approle(admin, role, policy)
            login = AppRoleLogin(role_id, kept.get(who, {}).get("secret_id", ""))
            if not login.secret_id or not logs_in(self.address(ctx), login):
                login = AppRoleLogin(role_id, new_secret_id(admin, role))
            record[who] = {"role_id": login.role_id, "secret_id": login.secret_id}
        if record != kept:
            fd = os.open(ctx.folder(self.name) / "approle.json",
                         os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(record, out)

    def _approle_record(self, ctx: Context) -> dict[str, dict[str, str]]:
        record = ctx.folder(self.name) / "approle.json"
        return json.loads(record.read_text()) if record.exists() else {}

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
        logins = self._approle_record(ctx)
        runtime, operator = logins.get("runtime", {}), logins.get("operator", {})
        # The platform's (SIMPTU_BAO_*: AppRoles, no token), and the bao/vault command line's
        # own names with the root token (the stack's tools and tests; never given to the
        # platform's processes, see devstack/envfile.platform_env).
        return {"SIMPTU_BAO_ADDR": address, "SIMPTU_BAO_AUTH": "approle",
                "SIMPTU_BAO_ROLE_ID": runtime.get("role_id", ""),
                "SIMPTU_BAO_SECRET_ID": runtime.get("secret_id", ""),
                "SIMPTU_OPERATOR_BAO_ROLE_ID": operator.get("role_id", ""),
                "SIMPTU_OPERATOR_BAO_SECRET_ID": operator.get("secret_id", ""),
                "BAO_ADDR": address, "VAULT_ADDR": address, "BAO_TOKEN": token,
                "VAULT_TOKEN": token,
                "SIMPTU_BAO": str(ctx.tool_dir(OPENBAO) / "bin" / "bao")}

    def endpoint(self, ctx: Context) -> str:
        return self.address(ctx)
