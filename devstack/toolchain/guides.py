"""The guides' site: docs/guides built by MkDocs (mkdocs.yml, strict) into the tool cache, keyed
by the guides, the configuration and the generator's versions, so an unchanged site is not built
again; the API serves the folder at /guides/. Offline: the build fetches nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from simptu.devstack.settings import REPO_ROOT
from simptu.devstack.toolchain.cache import ensure_cached
from simptu.devstack.toolchain.progress import BuildFailed
from simptu.devstack.toolchain.web import tree_digest

MKDOCS_CONFIG = REPO_ROOT / "mkdocs.yml"
GUIDES_SOURCES = REPO_ROOT / "docs" / "guides"
GENERATOR = ("mkdocs", "mkdocs-material")


def build_site(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` of `config` into `site`: its output, whether it failed or not."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's banner, printed every build
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "--config-file", str(config), "--site-dir", str(site)],
                          capture_output=True, text=True, timeout=300, check=False, env=env)


@dataclass(frozen=True)
class GuidesSite:
    """The guides' static site (`site/`: a folder per guide with its index.html, search)."""

    name: str = "guides"

    @property
    def version(self) -> str:
        digest = hashlib.sha256(MKDOCS_CONFIG.read_bytes())
        digest.update(tree_digest(GUIDES_SOURCES, set()).encode())
        for package in GENERATOR:
            digest.update(f"{package}=={metadata.version(package)}".encode())
        return digest.hexdigest()[:10]

    def folder(self, cache_root: Path) -> Path:
        return cache_root / f"{self.name}-{self.version}"

    def dist(self, cache_root: Path) -> Path:
        return self.folder(cache_root) / "site"

    def ensure(self, cache_root: Path) -> Path:
        return ensure_cached(self.folder(cache_root), self._build)

    def _build(self, staging: Path) -> None:
        print("==> building the guides' site (MkDocs)", flush=True)
        source = staging / "source"
        shutil.copytree(GUIDES_SOURCES, source / "docs" / "guides")
        shutil.copy(MKDOCS_CONFIG, source / "mkdocs.yml")
        done = build_site(source / "mkdocs.yml", staging / "site")
        said = done.stdout + done.stderr
        (staging / "logs").mkdir()
        (staging / "logs" / "build.log").write_text(said)
        if done.returncode != 0:
            raise BuildFailed(f"mkdocs build --strict failed:\n{said[-3000:]}")
        shutil.rmtree(source)


GUIDES_SITE = GuidesSite()
