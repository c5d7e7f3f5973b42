"""The frontend's builds: `npm ci` of a committed lock file into the tool cache (keyed by the
lock's hash, so a warm run installs nothing), and the widget (web/widget) and the staff inbox
(web/inbox) built with them (keyed by their sources, so an unchanged one is not built again)."""

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
INBOX_SOURCES = REPO_ROOT / "web" / "inbox"
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


    def run(self, cache_root: Path, script: str, *args: str,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run one of the modules' programs (e.g. `vitest/vitest.mjs`) in the project folder,
        with these modules linked into it."""
        self.link_into(cache_root, self.project)
        node = shutil.which("node")
        if node is None:
            raise BuildFailed("the frontend's tests need Node.js (node on PATH)")
        return subprocess.run([node, f"node_modules/{script}", *args], cwd=self.project,
                              capture_output=True, text=True, timeout=timeout, check=False)


@dataclass(frozen=True)
class WebBuild:
    """A frontend's static files (dist/: content-hashed files and manifest.json naming them),
    built by its `build.mjs` into the folder its `out_env` variable names."""

    name: str
    modules: NodeModules
    out_env: str

    @property
    def sources(self) -> Path:
        return self.modules.project

    @property
    def version(self) -> str:
        return tree_digest(self.sources)

    def folder(self, cache_root: Path) -> Path:
        return cache_root / f"{self.name}-{self.version}"

    def dist(self, cache_root: Path) -> Path:
        return self.folder(cache_root) / "dist"

    def ensure(self, cache_root: Path) -> Path:
        modules = self.modules.ensure(cache_root)
        return ensure_cached(self.folder(cache_root), lambda staging: self._build(staging, modules))

    def _build(self, staging: Path, modules: Path) -> None:
        print(f"==> building web/{self.sources.name} (Vite)", flush=True)
        source = staging / "source"
        shutil.copytree(self.sources, source,
                        ignore=shutil.ignore_patterns(*_NOT_SOURCES))
        (source / "node_modules").symlink_to(modules / "node_modules")
        env = {**os.environ, self.out_env: str(staging / "dist")}
        run_logged(f"vite build ({self.name})", ["node", "build.mjs"],
                   staging / "logs" / "build.log", cwd=source, env=env)
        shutil.rmtree(source)


WIDGET_MODULES = NodeModules(name="widget", project=WIDGET_SOURCES)
WIDGET = WebBuild(name="widget", modules=WIDGET_MODULES, out_env="SIMPTU_WIDGET_OUT")
INBOX_MODULES = NodeModules(name="inbox", project=INBOX_SOURCES)
INBOX = WebBuild(name="inbox", modules=INBOX_MODULES, out_env="SIMPTU_INBOX_OUT")
