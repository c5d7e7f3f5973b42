"""The guides' site `make up` builds (mkdocs.yml over docs/guides) is served by the running API
at /guides/: every page of the build, as built (a page per guide), and the search index its
pages load."""

from __future__ import annotations

import httpx

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.devstack.toolchain.guides import GUIDES_SITE, GUIDES_SOURCES


async def test_every_page_of_the_guides_is_served_by_the_api(stack: StackEnv) -> None:
    # The build make up linked for the API (a guide edited since is served after the next).
    site = (DevstackSettings().state_dir / GUIDES_SITE.name).resolve()
    pages = sorted(site.rglob("index.html"))
    guides = {guide.stem for guide in GUIDES_SOURCES.glob("*.md") if guide.stem != "README"}
    assert guides <= {page.parent.name for page in pages}  # a page per guide, and the overview
    assert site / "index.html" in pages
    async with httpx.AsyncClient(base_url=stack["SIMPTU_API_URL"], timeout=30) as client:
        for page in pages:
            folder = page.parent.relative_to(site).as_posix()
            path = "/guides/" if folder == "." else f"/guides/{folder}/"
            served = await client.get(path)
            assert served.status_code == 200, path
            assert served.headers["content-type"].startswith("text/html"), path
            assert served.text == page.read_text(), path
        index = await client.get("/guides/search/search_index.json")
        assert index.status_code == 200
        assert any(doc["location"] == "chat-sessions/" for doc in index.json()["docs"])
        bare = await client.get("/guides")
        assert bare.status_code in (307, 308)
        assert bare.headers["location"].endswith("/guides/")
        missing = await client.get("/guides/no-such-guide/")
        assert missing.status_code == 404
