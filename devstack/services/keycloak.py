"""Keycloak (SSO, one realm per tenant) from Maven Central, storing its data in PostgreSQL."""

from __future__ import annotations

import httpx

from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, NotReady, Service
from simptu.devstack.services.postgres import KEYCLOAK_DB
from simptu.devstack.toolchain.tools import KEYCLOAK, keycloak_java_home

ADMIN_USER = "admin"


class Keycloak(Service):
    name = "keycloak"
    needs = ("postgres",)

    def url(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{ctx.settings.keycloak_port}"

    def launch(self, ctx: Context) -> Launch:
        s = ctx.settings
        home = KEYCLOAK.home(s.tools_cache)
        return Launch(
            argv=[str(home / "bin" / "kc.sh"), "start", "--optimized",
                  "--http-enabled=true", f"--http-host={s.host}", f"--http-port={s.keycloak_port}",
                  f"--http-management-port={s.keycloak_management_port}",
                  "--hostname-strict=false",
                  f"--db-url=jdbc:postgresql://{s.host}:{s.postgres_port}/{KEYCLOAK_DB}",
                  f"--db-username={KEYCLOAK_DB}"],
            env={
                "JAVA_HOME": str(keycloak_java_home()),
                "JAVA_OPTS_KC_HEAP": "-Xms256m -Xmx1g",
                # Java 24+ closes java.lang to JBoss Threads: without this every executor
                # thread dies after its first task, leaving its thread-locals behind.
                "JAVA_OPTS_APPEND": "--add-opens=java.base/java.lang=ALL-UNNAMED",
                "KC_DB_PASSWORD": ctx.secret("keycloak_db_password"),
                # Read only on the very first start, to create the master realm's admin.
                "KC_BOOTSTRAP_ADMIN_USERNAME": ADMIN_USER,
                "KC_BOOTSTRAP_ADMIN_PASSWORD": ctx.secret("keycloak_admin_password"),
            },
        )

    async def probe(self, ctx: Context) -> None:
        s = ctx.settings
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.get(f"http://{s.host}:{s.keycloak_management_port}/health/ready")
        if answer.status_code != 200 or answer.json().get("status") != "UP":
            raise NotReady(f"/health/ready answered {answer.status_code}: {answer.text[:200]}")

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_KEYCLOAK_URL": self.url(ctx),
                "SIMPTU_KEYCLOAK_ADMIN_USER": ADMIN_USER,
                "SIMPTU_KEYCLOAK_ADMIN_PASSWORD": ctx.secret("keycloak_admin_password"),
                # Each realm's `simptu-operator` secret derives from it (operator and API).
                "SIMPTU_KEYCLOAK_REALM_SECRET_KEY": ctx.secret("keycloak_realm_secret_key", 32)}

    def endpoint(self, ctx: Context) -> str:
        return self.url(ctx)
