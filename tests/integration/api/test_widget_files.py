"""The running API serves the widget a clinic's snippet names: the launcher at a stable URL
(revalidated), every built file under its content hash (cached for a year), and a demo page per
demo tenant that embeds it as a clinic's page would."""

from __future__ import annotations

import re

import httpx

from simptu.devstack.envfile import StackEnv

CLINIC = "zambet-dental-cluj"


async def test_the_launcher_is_revalidated_and_the_hashed_files_are_cached_for_good(
        stack: StackEnv) -> None:
    async with httpx.AsyncClient(base_url=stack["SIMPTU_API_URL"], timeout=30) as api:
        loader = await api.get("/widget/widget.js")
        assert loader.status_code == 200
        assert loader.headers["content-type"].startswith("text/javascript")
        assert "max-age=300" in loader.headers["cache-control"]
        again = await api.get("/widget/widget.js",
                              headers={"If-None-Match": loader.headers["etag"]})
        assert again.status_code == 304
        [chat] = re.findall(r"chat-[0-9a-f]{10}\.js", loader.text)  # imported on open
        hashed = await api.get(f"/widget/{chat}", headers={"Origin": "https://any.example"})
        assert hashed.status_code == 200
        assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert hashed.headers["access-control-allow-origin"] == "*"  # a module script: CORS
        assert (await api.get("/widget/chat-0000000000.js")).status_code == 404


async def test_a_demo_page_embeds_the_widget_with_the_snippet_of_a_clinic(
        stack: StackEnv) -> None:
    async with httpx.AsyncClient(base_url=stack["SIMPTU_API_URL"], timeout=30) as api:
        page = await api.get(f"/demo/{CLINIC}")
        missing = await api.get("/demo/no-such-tenant")
    assert page.status_code == 200
    assert (f'<script src="{stack["SIMPTU_API_URL"]}/widget/widget.js" '
            f'data-tenant="{CLINIC}"') in page.text
    assert missing.status_code == 404
