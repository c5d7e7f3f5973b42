"""The frontend's builds: `npm ci` of a committed lock file into the tool cache (keyed by the
lock's hash, so a warm run installs nothing), and the widget built from web/widget with them
(keyed by its sources, so an unchanged widget is not built again)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from simptu.devstack.settings import REPO_ROOT
from simptu.devstack.toolchain.cache import ensure_cached
from simptu.devstack.toolchain.progress import BuildFailed, run_logged

WIDGET_SOURCES = REPO_ROOT / "web" / "widget"
# Vite 7 needs Node 20.19 or newer.
NODE_AT_LEAST = (20, 19)
# Not part of a build: what npm and the build make, and the tests.
_NOT_SOURCES = {"node_modules", "dist", "test"}


def tree_digest(root: Path, skip: set[str] = _NOT_SOURCES) -> str:
    """A short hash of every file under `root` (paths and contents), but the `skip` folders."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not skip & set(relative.parts):
            digest.update(str(relative).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def require_node() -> None:
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        raise BuildFailed("the widget needs Node.js (node and npm on PATH)")
    version = subprocess.run([node, "--version"], capture_output=True, text=True,
                             check=True).stdout.strip().lstrip("v")
    major, minor = (int(part) for part in version.split(".")[:2])
    if (major, minor) < NODE_AT_LEAST:
        raise BuildFailed(f"the widget needs Node.js {'.'.join(map(str, NODE_AT_LEAST))} or "
                          f"newer; this machine has {version}")


@dataclass(frozen=True)
class NodeModules:
    """`npm ci` of a project's package-lock.json, in the cache once per lock file."""

    name: str
    project: Path

    @property
    def version(self) -> str:
        lock = (self.project / "package-lock.json").read_bytes()
        return hashlib.sha256(lock).hexdigest()[:10]

    def folder(self, cache_root: Path) -> Path:
        return cache_root / f"npm-{self.name}-{self.version}"

    def ensure(self, cache_root: Path) -> Path:
        return ensure_cached(self.folder(cache_root), self._install)

    def _install(self, staging: Path) -> None:
        require_node()
        print(f"==> npm ci of {self.project.relative_to(REPO_ROOT)} from the npm registry",
              flush=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(self.project / name, staging / name)
        run_logged(f"npm ci ({self.name})", ["npm", "ci", "--no-audit", "--no-fund"],
                   staging / "logs" / "npm-ci.log", cwd=staging)

    def link_into(self, cache_root: Path, folder: Path) -> None:
        """Make `folder/node_modules` these modules (a link), e.g. for the unit tests."""
        target = self.ensure(cache_root) / "node_modules"
        link = folder / "node_modules"
        if link.is_symlink() and link.resolve() == target.resolve():
            return
        if link.is_symlink():
            link.unlink()
        elif link.exists():
            return  # a developer's own `npm install`: theirs to keep
        link.symlink_to(target)


@dataclass(frozen=True)
class WidgetBuild:
    """The widget's static files (dist/: the launcher, the chat module, manifest.json)."""

    name: str
    modules: NodeModules

    @property
    def version(self) -> str:
        return tree_digest(WIDGET_SOURCES)

    def folder(self, cache_root: Path) -> Path:
        return cache_root / f"{self.name}-{self.version}"

    def dist(self, cache_root: Path) -> Path:
        return self.folder(cache_root) / "dist"

    def ensure(self, cache_root: Path) -> Path:
        modules = self.modules.ensure(cache_root)
        return ensure_cached(self.folder(cache_root), lambda staging: self._build(staging, modules))

    def _build(self, staging: Path, modules: Path) -> None:
        print("==> building the chat widget (Vite)", flush=True)
        source = staging / "source"
        shutil.copytree(WIDGET_SOURCES, source,
                        ignore=shutil.ignore_patterns(*_NOT_SOURCES))
        (source / "node_modules").symlink_to(modules / "node_modules")
        env = {**os.environ, "SIMPTU_WIDGET_OUT": str(staging / "dist")}
        run_logged("vite build (widget)", ["node", "build.mjs"], staging / "logs" / "build.log",
                   cwd=source, env=env)
        shutil.rmtree(source)


WIDGET_MODULES = NodeModules(name="widget", project=WIDGET_SOURCES)
WIDGET = WidgetBuild(name="widget", modules=WIDGET_MODULES)
