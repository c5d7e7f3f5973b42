"""The guides' site (mkdocs.yml over docs/guides): the strict build `make up` runs passes, makes
a page per guide, and fails on a broken link or anchor, so a reader never follows a dead one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from simptu.devstack.toolchain.guides import GUIDES_SOURCES, MKDOCS_CONFIG, build_site


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A copy of the site's sources (mkdocs.yml and docs/guides) to build or break."""
    shutil.copytree(GUIDES_SOURCES, tmp_path / "docs" / "guides")
    shutil.copy(MKDOCS_CONFIG, tmp_path / "mkdocs.yml")
    return tmp_path


def test_the_strict_build_passes_with_a_page_per_guide(sources: Path) -> None:
    done = build_site(sources / "mkdocs.yml", sources / "site")
    assert done.returncode == 0, done.stdout + done.stderr
    pages = {page.parent.name for page in (sources / "site").glob("*/index.html")}
    guides = {guide.stem for guide in GUIDES_SOURCES.glob("*.md") if guide.stem != "README"}
    assert guides <= pages
    assert "Chat session management over REST" in (sources / "site" / "index.html").read_text()


@pytest.mark.parametrize("link", ["[the ratings](no-such-guide.md)",
                                  "[the ratings](ratings.md#no-such-heading)"])
def test_a_broken_link_fails_the_build(sources: Path, link: str) -> None:
    guide = sources / "docs" / "guides" / "chat-sessions.md"
    guide.write_text(guide.read_text() + f"\nSee also {link}.\n")
    done = build_site(sources / "mkdocs.yml", sources / "site")
    assert done.returncode != 0
    assert link.split("(")[1].rstrip(")").split("#")[-1] in done.stdout + done.stderr


def test_a_guide_left_out_of_the_navigation_fails_the_build(sources: Path) -> None:
    (sources / "docs" / "guides" / "orphan.md").write_text("# Nobody links here\n")
    done = build_site(sources / "mkdocs.yml", sources / "site")
    assert done.returncode != 0
    assert "orphan.md" in done.stdout + done.stderr
