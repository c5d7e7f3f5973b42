"""Small container images made here without a registry or an image builder: an OCI image-layout
tarball with one layer, which `ctr -n k8s.io images import` loads into the node's containerd.

Used for the pod sandbox (`pause`, a static C program compiled here) and for the node's probe
image (Debian's static busybox). Each archive is cached in the tools cache under a hash of its
inputs, built under a lock (`ensure_cached`).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from simptu.devstack.settings import REPO_ROOT
from simptu.devstack.toolchain.cache import ensure_cached, locked, spec_digest
from simptu.devstack.toolchain.guides import GUIDES_SITE
from simptu.devstack.toolchain.progress import run_logged
from simptu.devstack.toolchain.web import INBOX, WIDGET

IMAGES = REPO_ROOT / "images"
ARCHIVE = "image.oci.tar"


@dataclass(frozen=True)
class LocalImage:
    """`name` (a fixed tag, never `:latest`) made of `files`: path in the image -> host file."""

    name: str
    files: dict[str, Path]
    entrypoint: tuple[str, ...]
    user: str = "65535:65535"
    compile: bool = False  # the files are C sources, each compiled statically in its place
    labels: dict[str, str] = field(default_factory=dict)

    def folder(self, cache_root: Path) -> Path:
        digest = spec_digest(list(self.files.values()), repr((
            self.name, sorted(self.files), self.entrypoint, self.user, self.labels, self.compile)))
        stem = self.name.rsplit("/", 1)[-1].replace(":", "-")
        return cache_root / "images" / f"{stem}-{digest}"

    def archive(self, cache_root: Path) -> Path:
        """The OCI archive, built if its inputs changed."""
        return ensure_cached(self.folder(cache_root), self._build) / ARCHIVE

    def _build(self, staging: Path) -> None:
        files = dict(self.files)
        for target, source in self.files.items() if self.compile else ():
            binary = staging / "build" / Path(target).name
            binary.parent.mkdir(parents=True, exist_ok=True)
            run_logged(f"gcc {source.name}", ["gcc", "-Os", "-static", "-s", "-o", str(binary),
                                             str(source)], staging / "logs" / "gcc.log")
            files[target] = binary
        write_oci_archive(staging / ARCHIVE, self.name, files, self.entrypoint, self.user,
                          self.labels)


def _layer(files: dict[str, Path]) -> bytes:
    """A gzipped tar of the files, owned by root, with fixed times (same inputs, same digest)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs: set[str] = set()
        for target in sorted(files):
            parts = target.strip("/").split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                if folder not in dirs:
                    dirs.add(folder)
                    info = tarfile.TarInfo(folder)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
            data = files[target].read_bytes()
            info = tarfile.TarInfo("/".join(parts))
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def _blob(blobs: dict[str, bytes], data: bytes) -> dict[str, object]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return {"digest": digest, "size": len(data)}


def write_oci_archive(path: Path, name: str, files: dict[str, Path], entrypoint: tuple[str, ...],
                      user: str, labels: dict[str, str]) -> None:
    layer = _layer(files)
    diff_id = "sha256:" + hashlib.sha256(gzip.decompress(layer)).hexdigest()
    blobs: dict[str, bytes] = {}
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Entrypoint": list(entrypoint), "User": user, "Labels": labels,
                         "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
              "rootfs": {"type": "layers", "diff_ids": [diff_id]}}
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   **_blob(blobs, json.dumps(config).encode())},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    **_blob(blobs, layer)}]}
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        **_blob(blobs, json.dumps(manifest).encode()),
        "annotations": {"io.containerd.image.name": name,
                        "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]}}]}
    entries = {"oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
               "index.json": json.dumps(index).encode(),
               **{f"blobs/sha256/{d.split(':')[1]}": data for d, data in blobs.items()}}
    with tarfile.open(path, "w") as tar:
        for member, data in entries.items():
            info = tarfile.TarInfo(member)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))


PAUSE = LocalImage(name="simptu.local/pause:3.10", entrypoint=("/pause",), compile=True,
                   files={"/pause": IMAGES / "pause" / "pause.c"})
# A tiny image for checking the node itself (a pod that serves HTTP on its own address).
PROBE = LocalImage(name="simptu.local/busybox:1.35", files={"/bin/busybox": Path("/bin/busybox")},
                   entrypoint=("/bin/busybox",))
NODE_IMAGES = (PAUSE, PROBE)


# The platform's image (Dockerfile at the repository root), built here with buildah from a base
# made of Debian packages (mmdebstrap): no registry is reachable, nothing is pulled.
PLATFORM_VERSION = "0.1.0"
PLATFORM_IMAGE = f"simptu.local/simptu:{PLATFORM_VERSION}"
BASE_IMAGE = "simptu.local/python:3.11-bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates", "tzdata")
# What the Dockerfile copies: a change to any of these builds the image again.
PLATFORM_INPUTS = ("Dockerfile", ".dockerignore", "pyproject.toml", "constraints.txt",
                   "README.md")
PLATFORM_SOURCES = ("devstack", "operator", "runtime", "vault")
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def _platform_files() -> list[Path]:
    files = [REPO_ROOT / name for name in PLATFORM_INPUTS]
    for folder in PLATFORM_SOURCES:
        files += [path for path in (REPO_ROOT / folder).rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts]
    return files


# The web builds the image carries (/opt/simptu/web/<name>), made on this machine by `make up`
# and given to the build as the context `web-assets` in place of the Dockerfile's Node.js and
# MkDocs stages (no Node.js image can be pulled here); their versions hash their sources.
class StaticBuild(Protocol):
    """A static build of the tool cache (toolchain/web.py, toolchain/guides.py)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    def ensure(self, cache_root: Path) -> Path: ...
    def dist(self, cache_root: Path) -> Path: ...


WEB_BUILDS: tuple[StaticBuild, ...] = (WIDGET, INBOX, GUIDES_SITE)


def _web_versions() -> str:
    return repr([(build.name, build.version) for build in WEB_BUILDS])


def _web_assets(cache_root: Path, folder: Path) -> Path:
    """`folder` with a copy of each web build under its name (widget/, inbox/, guides/)."""
    for build in WEB_BUILDS:
        build.ensure(cache_root)
        shutil.copytree(build.dist(cache_root), folder / build.name)
    return folder


def _dependency_files() -> list[Path]:
    return [REPO_ROOT / name for name in ("Dockerfile", "pyproject.toml", "constraints.txt")]


def _digest(files: list[Path], params: str = "") -> str:
    """Like spec_digest, but by path relative to the repository (names repeat across folders)."""
    digest = hashlib.sha256(params.encode())
    for path in sorted(files):
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def base_rootfs(cache_root: Path) -> Path:
    """A Debian bookworm root filesystem with Python 3.11, as a tar (mmdebstrap, minbase)."""
    folder = cache_root / "images" / f"base-bookworm-{spec_digest([], repr(BASE_PACKAGES))}"

    def fill(staging: Path) -> None:
        print("==> making the base image's root filesystem from Debian packages", flush=True)
        run_logged("mmdebstrap", [
            "mmdebstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}",
            "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-exclude=/usr/share/man/*",
            "--dpkgopt=path-exclude=/usr/share/locale/*",
            '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*',
            "bookworm", str(staging / "rootfs.tar")], staging / "logs" / "mmdebstrap.log")

    return ensure_cached(folder, fill) / "rootfs.tar"


class Buildah:
    """buildah on a store of its own in the tools cache, so builds never touch other images and
    the store can be pruned (or deleted) freely."""

    def __init__(self, cache_root: Path) -> None:
        self.store = cache_root / "images" / "buildah"

    def argv(self, *args: str) -> list[str]:
        return ["buildah", "--root", str(self.store / "root"), "--runroot",
                str(self.store / "run"), "--storage-driver", "overlay", *args]

    def run(self, label: str, log: Path, *args: str) -> None:
        run_logged(label, self.argv(*args), log)

    def output(self, *args: str) -> str:
        return subprocess.run(self.argv(*args), capture_output=True, text=True,
                              check=True).stdout.strip()

    def has_image(self, name: str) -> bool:
        return subprocess.run(self.argv("inspect", "--type", "image", name),
                              capture_output=True).returncode == 0


def platform_archive(cache_root: Path) -> Path:
    """The platform's image as an OCI archive (uncompressed layers), built if its inputs changed;
    older builds are deleted, and buildah's store is pruned of what is no longer tagged."""
    images = cache_root / "images"
    folder = images / f"simptu-{PLATFORM_VERSION}-{_digest(_platform_files(), _web_versions())}"

    def fill(staging: Path) -> None:
        started = time.monotonic()
        rootfs = base_rootfs(cache_root)
        web = _web_assets(cache_root, staging / "web-assets")
        buildah, logs = Buildah(cache_root), staging / "logs"
        with locked(images / "buildah.lock"):
            if not buildah.has_image(BASE_IMAGE):
                work = buildah.output("from", "scratch")
                buildah.run("buildah add base", logs / "base.log", "add", work, str(rootfs), "/")
                buildah.run("buildah config base", logs / "base-config.log", "config",
                            "--env", "PATH=/usr/local/bin:/usr/bin:/bin", "--cmd", "python3",
                            work)
                buildah.run("buildah commit base", logs / "base-commit.log", "commit", "--rm",
                            work, BASE_IMAGE)
            print(f"==> building {PLATFORM_IMAGE} from the Dockerfile (buildah)", flush=True)
            bud = ("bud", "--layers", "--pull=never", "--network=host", "--build-arg",
                   f"BASE={BASE_IMAGE}", "--build-context", f"web-assets={web}", *_host_ca(),
                   "-f", str(REPO_ROOT / "Dockerfile"))
            # The dependencies' stage, tagged so that pruning keeps it as the next build's cache.
            deps = f"simptu.local/simptu-deps:{_digest(_dependency_files())}"
            buildah.run("buildah bud deps", logs / "bud-deps.log", *bud, "--target", "deps",
                        "-t", deps, str(REPO_ROOT))
            buildah.run("buildah bud", logs / "bud.log", *bud, "--build-arg",
                        f"REVISION={_revision()}", "-t", PLATFORM_IMAGE, str(REPO_ROOT))
            buildah.run("buildah push", logs / "push.log", "push", "--disable-compression",
                        PLATFORM_IMAGE, f"oci-archive:{staging / ARCHIVE}:{PLATFORM_IMAGE}")
            (staging / "size").write_text(buildah.output(
                "images", "--format", "{{.Size}}", PLATFORM_IMAGE) + "\n")
            # How long this build took, archive included (bench/bench_node.py reports it).
            (staging / "build-seconds").write_text(f"{time.monotonic() - started:.1f}\n")
            # Older dependency stages and untagged layers go; this build's stay as the cache.
            subprocess.run(buildah.argv("rm", "--all"), capture_output=True, check=False)
            for old in buildah.output("images", "--format", "{{.Name}}:{{.Tag}}").split():
                if old.startswith("simptu.local/simptu-deps:") and old != deps:
                    subprocess.run(buildah.argv("rmi", old), capture_output=True, check=False)
            subprocess.run(buildah.argv("rmi", "--prune"), capture_output=True, check=False)
        shutil.rmtree(web)  # in the image now

    archive = ensure_cached(folder, fill) / ARCHIVE
    for old in images.glob(f"simptu-{PLATFORM_VERSION}-*"):
        if old.is_dir() and old != folder and not old.name.endswith((".partial", ".lock")):
            shutil.rmtree(old, ignore_errors=True)
    return archive


def _host_ca() -> list[str]:
    """This machine's CA bundle for pip inside the build (it trusts what the host trusts, e.g. a
    TLS-inspecting proxy's CA); mounted for RUN steps only, never copied into a layer."""
    bundle = Path(os.environ.get("PIP_CERT") or HOST_CA_BUNDLE)
    if not bundle.is_file():
        return []
    inside = "/run/host-ca.crt"
    return ["-v", f"{bundle}:{inside}:ro", "--build-arg", f"PIP_CERT={inside}"]


def archive_digest(archive: Path) -> str:
    """The manifest digest an OCI archive's index names (what containerd lists for the image)."""
    with tarfile.open(archive) as tar:
        member = tar.extractfile("index.json")
        assert member is not None
        return str(json.load(member)["manifests"][0]["digest"])


def last_platform_build(cache_root: Path) -> Path | None:
    """The folder of the newest platform image built (archive, size, build time), without
    building one (the inputs may have changed since)."""
    builds = [folder for folder in (cache_root / "images").glob(f"simptu-{PLATFORM_VERSION}-*")
              if folder.is_dir() and (folder / ARCHIVE).exists()
              and not folder.name.endswith((".partial", ".lock"))]
    return max(builds, key=lambda folder: (folder / ARCHIVE).stat().st_mtime, default=None)


def node_platform_archive(cache_root: Path, rebuild: bool) -> Path:
    """The platform image's archive for the node: built again if its inputs changed, or, unless
    `rebuild`, the newest one built (when there is one)."""
    last = None if rebuild else last_platform_build(cache_root)
    return last / ARCHIVE if last is not None else platform_archive(cache_root)


def _revision() -> str:
    argv = ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


@dataclass(frozen=True)
class PlatformImageTool:
    """The platform's image as a tool of the stack (`tools images`, `make images`): built when
    its inputs changed, before the node starts."""

    name: str = "images"
    version: str = PLATFORM_VERSION

    def folder(self, cache_root: Path) -> Path:
        return platform_archive(cache_root).parent

    def ensure(self, cache_root: Path) -> Path:
        for image in NODE_IMAGES:
            image.archive(cache_root)
        return self.folder(cache_root)


PLATFORM_IMAGE_TOOL = PlatformImageTool()
