"""The chat widget's files and the demo pages: `GET /widget/widget.js` (the launcher a clinic's
snippet names, revalidated every few minutes), `GET /widget/<name>-<hash>.js` (content-hashed,
cached for a year), and, where enabled, `GET /demo/<slug>`: a page that embeds the widget with
the same `<script src=…>` a clinic's site uses."""

from __future__ import annotations

import functools
import html
import json
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from simptu.runtime.api.dependencies import PlatformDep
from simptu.runtime.api.problems import ApiProblem
from simptu.runtime.api.routing import lookup

router = APIRouter(tags=["widget"], include_in_schema=False)

IMMUTABLE = "public, max-age=31536000, immutable"
# The stable name is the one thing a clinic's page holds: short, so a new build spreads fast.
REVALIDATE = "public, max-age=300, stale-while-revalidate=86400"
JAVASCRIPT = "text/javascript; charset=utf-8"


@dataclass(frozen=True)
class WidgetFiles:
    """The built widget (web/widget's dist/): file name -> bytes, and which is the launcher."""

    loader: str
    files: dict[str, bytes]


@functools.lru_cache(maxsize=4)
def widget_files(folder: Path) -> WidgetFiles:
    """Read once per folder: every build has a folder of its own (its hash in the name)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    names = {manifest["loader"], manifest["chat"]}
    return WidgetFiles(manifest["loader"], {name: (folder / name).read_bytes() for name in names})


def current_build(folder: Path | None, name: str) -> Path:
    """The build a setting names (`SIMPTU_API_<NAME>_DIR`, a link to the current build, so a
    new one is seen at once), or 404 if there is none."""
    if folder is None or not (folder / "manifest.json").exists():
        raise ApiProblem(404, f"{name}-not-built", f"this API serves no {name} "
                         f"(SIMPTU_API_{name.upper()}_DIR names no build)")
    return folder.resolve()


def _built(request: Request) -> WidgetFiles:
    return widget_files(current_build(request.app.state.platform.settings.api_widget_dir,
                                      "widget"))


def _script(body: bytes, cache: str, etag: str) -> Response:
    # Module scripts (the chat, imported on open) are fetched with CORS from the clinic's page.
    return Response(body, media_type=JAVASCRIPT, headers={
        "Cache-Control": cache, "ETag": f'"{etag}"', "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin", "X-Content-Type-Options": "nosniff"})


@router.get("/widget/widget.js")
async def widget_loader(request: Request) -> Response:
    built = _built(request)
    etag = built.loader.removesuffix(".js").rsplit("-", 1)[-1]
    if request.headers.get("if-none-match") == f'"{etag}"':
        return Response(status_code=304, headers={"Cache-Control": REVALIDATE,
                                                  "ETag": f'"{etag}"'})
    return _script(built.files[built.loader], REVALIDATE, etag)


@router.get("/widget/{name}")
async def widget_file(name: str, request: Request) -> Response:
    built = _built(request)
    if name not in built.files:
        raise ApiProblem(404, "not-found", f"the widget has no file {name!r}")
    return _script(built.files[name], IMMUTABLE, name)


DEMO_PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name} (demo)</title>
<style>body{{font:17px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto}}</style>
</head>
<body>
<main>
<h1>{name}</h1>
<p>{intro}</p>
</main>
<script src="{src}" data-tenant="{slug}" data-locale="{lang}" data-ws="{ws}" async></script>
</body>
</html>
"""
INTRO = {"ro": "Pagina demonstrativă a clinicii: asistentul este în colțul din dreapta jos.",
         "en": "A demo page of this business: the assistant is in the bottom right corner."}


@router.get("/demo/{slug}", response_class=HTMLResponse)
async def demo_page(slug: str, request: Request, platform: PlatformDep) -> HTMLResponse:
    """A tenant's demo page (local stacks: SIMPTU_API_DEMO_PAGES); its origin must be one of
    the tenant's web origins for the chat to open, as on a clinic's own site."""
    if not platform.settings.api_demo_pages:
        raise ApiProblem(404, "not-found", "demo pages are off (SIMPTU_API_DEMO_PAGES)")
    tenant = await lookup(platform, slug)
    lang = "ro" if tenant.locale.startswith("ro") else "en"
    page = DEMO_PAGE.format(
        lang=lang, name=html.escape(tenant.display_name or tenant.slug), intro=INTRO[lang],
        src=html.escape(str(request.url_for("widget_loader"))), slug=html.escape(tenant.slug),
        ws=html.escape(platform.settings.api_widget_ws_url or ""))
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
