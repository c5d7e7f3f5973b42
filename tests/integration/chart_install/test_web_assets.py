"""The chart's API serves the web builds of the platform image (api.webAssetsDir, the image's
/opt/simptu/web): the chat widget's scripts at /widget/, a tenant's staff inbox at /inbox/<slug>
with its assets, and the guides' site at /guides/, from a release installed on the stack's node
(its API reads the stack's tenant registry, so a demo clinic of the stack has an inbox there)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from simptu.devstack.services.api import DEMO_TENANT

from .release import LocalRelease


@pytest.fixture(scope="module")
async def api(release: LocalRelease) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=release.api_url, timeout=30) as client:
        yield client


def _kind(answer: httpx.Response) -> str:
    return answer.headers["content-type"].split(";")[0]


async def test_the_widgets_launcher_and_the_chat_module_it_imports_are_served(
        api: httpx.AsyncClient) -> None:
    loader = await api.get("/widget/widget.js")
    assert loader.status_code == 200, loader.text
    assert _kind(loader) == "text/javascript"
    # The launcher imports the chat by its content-hashed name, served from the same build.
    [chat] = set(re.findall(r"chat-[0-9a-f]{10}\.js", loader.text))
    module = await api.get(f"/widget/{chat}")
    assert module.status_code == 200
    assert _kind(module) == "text/javascript"
    assert "immutable" in module.headers["cache-control"]


async def test_a_tenants_inbox_page_and_its_script_are_served(api: httpx.AsyncClient) -> None:
    page = await api.get(f"/inbox/{DEMO_TENANT}")
    assert page.status_code == 200, page.text
    assert _kind(page) == "text/html"
    [script] = re.findall(r'<script type="module" src="([^"]+)"', page.text)
    assert "/inbox/assets/" in script  # an absolute URL of this API
    asset = await api.get(script)
    assert asset.status_code == 200
    assert _kind(asset) == "text/javascript"


async def test_the_guides_site_is_served_with_its_search_index(api: httpx.AsyncClient) -> None:
    home = await api.get("/guides/")
    assert home.status_code == 200, home.text
    assert _kind(home) == "text/html"
    assert "Simptu guides for frontend developers" in home.text  # mkdocs.yml's site_name
    index = await api.get("/guides/search/search_index.json")
    assert index.status_code == 200
    assert index.json()["docs"]
