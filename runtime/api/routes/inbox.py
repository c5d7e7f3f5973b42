"""The staff inbox (web/inbox's build): `GET /inbox/<slug>`, the page of a tenant's inbox (it
names the tenant's realm, the hub and the content-hashed script and stylesheet, never cached),
and `GET /inbox/assets/<name>-<hash>.<js|css>` (cached for a year). Staff sign in with the
tenant's Keycloak realm in the page; everything it shows comes from the public API and hub."""

from __future__ import annotations

import functools
import html
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from simptu.runtime.api.dependencies import PlatformDep
from simptu.runtime.api.problems import ApiProblem
from simptu.runtime.api.routes.widget import IMMUTABLE, current_build
from simptu.runtime.api.routing import lookup
from simptu.runtime.core.keycloak_admin import WEB_CLIENT

router = APIRouter(tags=["inbox"], include_in_schema=False)

TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class InboxFiles:
    """The built inbox: its entry script, stylesheets, and every file by name."""

    script: str
    styles: tuple[str, ...]
    files: dict[str, bytes]


@functools.lru_cache(maxsize=4)
def inbox_files(folder: Path) -> InboxFiles:
    """Read once per folder: every build has a folder of its own (its hash in the name)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = next(chunk for chunk in manifest.values() if chunk.get("isEntry"))
    names = {chunk["file"] for chunk in manifest.values()}
    names |= {css for chunk in manifest.values() for css in chunk.get("css", [])}
    return InboxFiles(entry["file"], tuple(entry.get("css", [])),
                      {name: (folder / name).read_bytes() for name in names})


def _built(request: Request) -> InboxFiles:
    return inbox_files(current_build(request.app.state.platform.settings.api_inbox_dir,
                                     "inbox"))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name} · Inbox</title>
<link rel="icon" href="data:,">
{styles}
<script type="module" src="{script}"></script>
</head>
<body>
<div id="app"><main class="notice"><h1>{name} · Inbox</h1>
<p role="status">Signing in…</p></main></div>
<script type="application/json" id="simptu-inbox-config">{config}</script>
</body>
</html>
"""


@router.get("/inbox/assets/{name}")
async def inbox_asset(name: str, request: Request) -> Response:
    built = _built(request)
    if name not in built.files:
        raise ApiProblem(404, "not-found", f"the inbox has no file {name!r}")
    return Response(built.files[name], media_type=TYPES.get(Path(name).suffix),
                    headers={"Cache-Control": IMMUTABLE, "ETag": f'"{name}"',
                             "X-Content-Type-Options": "nosniff"})


@router.get("/inbox/{slug}", response_class=HTMLResponse)
async def inbox_page(slug: str, request: Request, platform: PlatformDep) -> HTMLResponse:
    """A tenant's inbox. Its origin must be one of the tenant's web origins (its realm's web
    client redirects there after sign-in and lets it call the token endpoint)."""
    built = _built(request)
    tenant = await lookup(platform, slug)
    if not tenant.auth_issuer:
        raise ApiProblem(503, "tenant-not-ready", f"tenant {slug!r} has no realm yet",
                         headers={"Retry-After": str(platform.settings.api_retry_after)})
    page = str(request.url_for("inbox_page", slug=tenant.slug))
    ws = platform.settings.api_widget_ws_url or (
        str(request.base_url).replace("http", "ws", 1).rstrip("/") + "/socket")
    name = tenant.display_name or tenant.slug
    config = {"tenant": tenant.slug, "name": name, "authority": tenant.auth_issuer,
              "clientId": WEB_CLIENT, "ws": ws, "page": urlsplit(page).path}
    assets = str(request.url_for("inbox_asset", name="x")).removesuffix("x")
    body = PAGE.format(
        name=html.escape(name), script=html.escape(assets + built.script),
        styles="\n".join(f'<link rel="stylesheet" href="{html.escape(assets + css)}">'
                         for css in built.styles),
        # In a script element, only "</" could end it early.
        config=json.dumps(config).replace("</", "<\\/"))
    policy = "; ".join((
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        f"connect-src 'self' {_origin(tenant.auth_issuer)} {_origin(ws)}",
        "frame-src " + _origin(tenant.auth_issuer), "frame-ancestors 'none'",
        "base-uri 'none'", "form-action 'self' " + _origin(tenant.auth_issuer)))
    return HTMLResponse(body, headers={"Cache-Control": "no-store",
                                       "Content-Security-Policy": policy,
                                       "Referrer-Policy": "no-referrer"})
