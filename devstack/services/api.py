"""The HTTP API (`python -m simptu.runtime.api`) as a local process on port 3003, started once
the demo tenants are Ready, which then get their demo catalogues (services, staff, classes,
rooms); `make up` ends by showing how to call it with a demo user's token."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from simptu.devstack.demo_channels import PLATFORM_APP_SECRET, PLATFORM_VERIFY_TOKEN
from simptu.devstack.envfile import read_env_file
from simptu.devstack.services.base import Context, NotReady, PlatformProcess
from simptu.devstack.services.kafka import Kafka
from simptu.devstack.services.operator import demo_slugs
from simptu.devstack.toolchain.guides import GUIDES_SITE, GuidesSite
from simptu.devstack.toolchain.web import INBOX, WIDGET, WebBuild

DEMO_TENANT = "zambet-dental-cluj"


def migrate(ctx: Context) -> None:
    """`simptu migrate` (a no-op when every schema is up to date). A broken tenant (a test's
    leftover) is reported and does not stop the API."""
    done = subprocess.run([sys.executable, "-m", "simptu.runtime", "migrate"],
                          env=read_env_file(ctx.settings.env_file), capture_output=True,
                          text=True, check=False, timeout=600)
    errors = done.stderr.strip().splitlines()
    if done.returncode != 0 and not all(e.startswith("error: tenant ") for e in errors):
        raise NotReady(f"simptu migrate failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    for error in errors:
        print(f"  warning  api: {error.removeprefix('error: ')}", flush=True)


def link_build(ctx: Context, build: WebBuild | GuidesSite) -> None:
    """.devstack/<name>: a link to a frontend's (or the guides') current build (in the tool
    cache)."""
    link = ctx.settings.state_dir / build.name
    staged = link.with_name(f"{build.name}.new")
    staged.unlink(missing_ok=True)
    staged.symlink_to(build.dist(ctx.settings.tools_cache))
    staged.replace(link)


def link_builds(ctx: Context) -> None:
    """.devstack/widget, .devstack/inbox and .devstack/guides: links to the widget's, the
    inbox's and the guides' builds."""
    for build in (WIDGET, INBOX, GUIDES_SITE):
        link_build(ctx, build)


class Api(PlatformProcess):
    name = "api"
    module = "simptu.runtime.api"
    needs = ("postgres", "redis", "kafka", "openbao", "keycloak", "operator")

    def url(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{ctx.settings.api_port}"

    def prepare(self, ctx: Context) -> None:
        """Migrations first, as a deployment runs them before the new API version starts."""
        migrate(ctx)
        link_builds(ctx)

    def own_env(self, ctx: Context) -> dict[str, str]:
        return {**Kafka().login_env(ctx, "simptu-api"), "SIMPTU_API_HOST": ctx.settings.host,
                "SIMPTU_API_WIDGET_DIR": str(ctx.settings.state_dir / "widget"),
                "SIMPTU_API_INBOX_DIR": str(ctx.settings.state_dir / "inbox"),
                "SIMPTU_API_GUIDES_DIR": str(ctx.settings.state_dir / "guides"),
                "SIMPTU_API_WIDGET_WS_URL": f"ws://{ctx.settings.host}:{ctx.settings.ws_port}/socket",
                "SIMPTU_API_DEMO_PAGES": "true",
                # The platform's own Meta app, against the Graph API stand-in.
                "SIMPTU_META_APP_SECRET": PLATFORM_APP_SECRET,
                "SIMPTU_META_VERIFY_TOKEN": PLATFORM_VERIFY_TOKEN,
                # What Twilio calls (and signs): the API as the stand-in reaches it.
                "SIMPTU_PUBLIC_BASE_URL": self.url(ctx)}

    async def configure(self, ctx: Context) -> None:
        """Seed each demo tenant's catalogue and FAQ, so availability can be asked at once.
        Seeding again updates them in place, so every `make up` may do it; migrations run
        first, as the API may have been started by an older checkout."""
        await asyncio.to_thread(migrate, ctx)
        link_builds(ctx)  # a running API serves new builds of the widget and inbox at once
        slugs = demo_slugs()
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "simptu.runtime", "seed-demo-catalogue",
                             *slugs], env=read_env_file(ctx.settings.env_file),
            capture_output=True, text=True, check=False, timeout=300)
        if done.returncode != 0:
            raise NotReady(f"seeding the demo catalogues failed: {done.stderr[-2000:]}")

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_API_URL": self.url(ctx), "SIMPTU_API_PORT": str(ctx.settings.api_port),
                # Guest tokens are HMAC-signed: the WS hub verifies them with the same secret.
                "SIMPTU_GUEST_TOKEN_SECRET": ctx.secret("api_guest_token_secret", nbytes=48)}

    def endpoint(self, ctx: Context) -> str:
        return self.url(ctx)

    def hint(self, ctx: Context) -> str:
        keycloak = f"http://{ctx.settings.host}:{ctx.settings.keycloak_port}"
        return (
            f"API: {self.url(ctx)} (OpenAPI at /docs). A token of demo user staff "
            "(or admin, customer; password demo), then a call:\n"
            f"  TOKEN=$(curl -s -d grant_type=password -d client_id=simptu-web -d username=staff "
            f"-d password=demo {keycloak}/realms/{DEMO_TENANT}/protocol/openid-connect/token "
            "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')\n"
            f"  curl -s -H \"Authorization: Bearer $TOKEN\" {self.url(ctx)}/v1/me\n"
            "The chat widget on each demo tenant's demo page, in a browser:\n"
            + "\n".join(f"  {self.url(ctx)}/demo/{slug}" for slug in demo_slugs())
            + "\nThe staff inbox of each demo tenant (sign in as staff, password demo):\n"
            + "\n".join(f"  {self.url(ctx)}/inbox/{slug}" for slug in demo_slugs())
            + f"\nThe guides for frontend developers: {self.url(ctx)}/guides/")
