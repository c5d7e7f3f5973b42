"""The guides for frontend developers as a site: `GET /guides/` and every page under it, the
static files MkDocs built from docs/guides (mkdocs.yml; `make up` builds them). The folder is
read at each request through its link, so a new build is served without a restart."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def mount(app: FastAPI, folder: Path | None) -> None:
    """Serve `folder` at /guides/ (a page's folder answers with its index.html); None: no
    guides, /guides/ is not found."""
    if folder is not None:
        app.mount("/guides", StaticFiles(directory=folder, html=True, check_dir=False),
                  name="guides")
