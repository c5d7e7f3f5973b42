"""The tools of the local stack, each with the registry it comes from and how it is built.

Versions live here; the Go modules and Maven poms beside this file pin what each build uses.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from simptu.devstack.images import PLATFORM_IMAGE_TOOL
from simptu.devstack.toolchain.cache import ensure_cached, spec_digest
from simptu.devstack.toolchain.guides import GUIDES_SITE
from simptu.devstack.toolchain.progress import BuildFailed, run_logged
from simptu.devstack.toolchain.web import INBOX, WIDGET

SPECS = Path(__file__).resolve().parent


class Tool(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    def folder(self, cache_root: Path) -> Path:
        """Where the tool is (or will be) once obtained."""
        ...

    def ensure(self, cache_root: Path) -> Path:
        """Obtain the tool if needed; return its folder."""
        ...


@dataclass(frozen=True)
class GoTool:
    """Binaries built with `go build` from a pinned Go module under toolchain/go/<module>."""

    name: str
    version: str
    module: str
    packages: dict[str, str]  # binary name -> Go package path
    ldflags: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)

    @property
    def spec_dir(self) -> Path:
        return SPECS / "go" / self.module

    def folder(self, cache_root: Path) -> Path:
        digest = spec_digest(list(self.spec_dir.iterdir()), repr((self.packages, self.ldflags)))
        return cache_root / f"{self.name}-{self.version}-{digest}"

    def ensure(self, cache_root: Path) -> Path:
        return ensure_cached(self.folder(cache_root), self._build)

    def _build(self, staging: Path) -> None:
        if shutil.which("go") is None:
            raise BuildFailed(f"{self.name}: the Go toolchain is not installed (`go` not on PATH)")
        env = {**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", **self.env}
        for binary, package in self.packages.items():
            print(f"==> building {binary} {self.version} from the Go module proxy", flush=True)
            ldflags = " ".join(("-s", "-w", *self.ldflags))
            argv = ["go", "build", "-v", "-trimpath", "-ldflags", ldflags,
                    "-o", str(staging / "bin" / binary), package]
            run_logged(binary, argv, staging / "logs" / f"{binary}.log", cwd=self.spec_dir, env=env)


@dataclass(frozen=True)
class MavenLibraries:
    """A Java program's jars: `mvn dependency:copy-dependencies` of a pom under toolchain/maven."""

    name: str
    version: str
    pom_dir: str

    def folder(self, cache_root: Path) -> Path:
        digest = spec_digest([SPECS / "maven" / self.pom_dir / "pom.xml"])
        return cache_root / f"{self.name}-{self.version}-{digest}"

    def ensure(self, cache_root: Path) -> Path:
        return ensure_cached(self.folder(cache_root), self._fetch)

    def _fetch(self, staging: Path) -> None:
        print(f"==> fetching {self.name} {self.version} and its dependencies from Maven Central")
        argv = ["mvn", "-B", "-q", "-f", str(SPECS / "maven" / self.pom_dir / "pom.xml"),
                "dependency:copy-dependencies", "-DincludeScope=runtime",
                f"-DoutputDirectory={staging / 'libs'}"]
        run_logged(self.name, argv, staging / "logs" / "mvn.log")


@dataclass(frozen=True)
class KeycloakDist:
    """Keycloak's Quarkus distribution zip from Maven Central, pre-built for PostgreSQL."""

    name: str
    version: str
    build_options: tuple[str, ...]

    def folder(self, cache_root: Path) -> Path:
        digest = spec_digest([], repr(self.build_options))  # build options are baked in
        return cache_root / f"{self.name}-{self.version}-{digest}"

    def home(self, cache_root: Path) -> Path:
        return self.folder(cache_root) / f"keycloak-{self.version}"

    def ensure(self, cache_root: Path) -> Path:
        return ensure_cached(self.folder(cache_root), self._fetch)

    def _fetch(self, staging: Path) -> None:
        print(f"==> fetching Keycloak {self.version} from Maven Central", flush=True)
        artifact = f"org.keycloak:keycloak-quarkus-dist:{self.version}:zip"
        argv = ["mvn", "-B", "-q", "dependency:copy", f"-Dartifact={artifact}",
                f"-DoutputDirectory={staging}"]
        run_logged("keycloak download", argv, staging / "logs" / "mvn.log")
        archive = staging / f"keycloak-quarkus-dist-{self.version}.zip"
        with zipfile.ZipFile(archive) as dist:
            dist.extractall(staging)
        archive.unlink()
        home = staging / f"keycloak-{self.version}"
        for script in (home / "bin").glob("*.sh"):
            script.chmod(0o755)
        # `kc.sh build` bakes build-time options in, so each start is fast (`start --optimized`).
        env = {**os.environ, "JAVA_HOME": str(keycloak_java_home())}
        run_logged("keycloak build", [str(home / "bin" / "kc.sh"), "build", *self.build_options],
                   staging / "logs" / "kc-build.log", env=env)


@dataclass(frozen=True)
class DebianPackages:
    """Services packaged by Debian, installed with apt-get when their binaries are missing."""

    name: str
    version: str
    binaries: dict[str, str]  # binary path -> package that provides it

    def folder(self, cache_root: Path) -> Path:
        return Path("/")

    def ensure(self, cache_root: Path) -> Path:
        missing = sorted({pkg for path, pkg in self.binaries.items() if not Path(path).exists()})
        if missing:
            print(f"==> installing Debian packages: {' '.join(missing)}", flush=True)
            sudo = [] if os.geteuid() == 0 else ["sudo"]
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            log = cache_root / "logs" / "apt.log"
            run_logged("apt-get update", [*sudo, "apt-get", "update", "-q"], log, env=env)
            with _no_service_starts():
                run_logged("apt-get install", [*sudo, "apt-get", "install", "-y", "-q", *missing],
                           log.with_name("apt-install.log"), env=env)
        return self.folder(cache_root)


@contextmanager
def _no_service_starts() -> Iterator[None]:
    """Debian's policy-rc.d hook, for the install only: the stack starts its own servers on its
    own ports, and the packages' system instances (Postfix on port 25, Dovecot on 143, …)
    stay off. An existing policy is left as it is."""
    policy = Path("/usr/sbin/policy-rc.d")
    if policy.exists() or os.geteuid() != 0:
        yield
        return
    policy.write_text("#!/bin/sh\n# the simptu devstack installs packages: no starts\nexit 101\n")
    policy.chmod(0o755)
    try:
        yield
    finally:
        policy.unlink(missing_ok=True)


def keycloak_java_home() -> Path:
    """A JDK Keycloak supports (21 or newer), preferring the newest installed one."""
    candidates = sorted(Path("/usr/lib/jvm").glob("*"), key=_jdk_major, reverse=True)
    for home in candidates:
        if _jdk_major(home) >= 21 and (home / "bin" / "java").exists():
            return home
    raise BuildFailed("Keycloak needs a JDK 21 or newer: none found under /usr/lib/jvm")


def _jdk_major(home: Path) -> int:
    release = home / "release"
    if not release.exists():
        return 0
    for line in release.read_text().splitlines():
        if line.startswith("JAVA_VERSION="):
            return int(line.split("=", 1)[1].strip('"').split(".")[0])
    return 0


KUBE_VERSION = "1.34.4"
_KUBE_LDFLAGS = tuple(
    f"-X {pkg}.{var}={value}"
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
    for var, value in (("gitVersion", f"v{KUBE_VERSION}"), ("gitMajor", "1"),
                       ("gitMinor", KUBE_VERSION.split(".")[1]), ("gitTreeState", "clean"))
)

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")

DEBIAN = DebianPackages(
    name="debian", version="bookworm",
    binaries={str(POSTGRES_BIN / "postgres"): "postgresql-15",
              "/usr/bin/redis-server": "redis-server",
              "/usr/bin/redis-cli": "redis-tools",
              "/usr/sbin/pgbouncer": "pgbouncer",
              "/usr/sbin/postfix": "postfix", "/usr/sbin/dovecot": "dovecot-core",
              "/usr/lib/dovecot/imap": "dovecot-imapd", "/usr/lib/dovecot/lmtp": "dovecot-lmtpd",
              # Argo CD's health.lua for Tenant is tested in Lua 5.1, the language of gopher-lua
              "/usr/bin/lua5.1": "lua5.1"},
)
KUBE = GoTool(
    name="kube", version=KUBE_VERSION, module="kube", ldflags=_KUBE_LDFLAGS,
    packages={"kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
              "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
              "kubectl": "k8s.io/kubernetes/cmd/kubectl"},
)
# The node's kubelet and scheduler (unless SIMPTU_NODE=0): a module of their own, so adding
# them does not rebuild kube-apiserver; same pin and version stamp as KUBE.
KUBE_NODE = GoTool(
    name="kube-node", version=KUBE_VERSION, module="kubenode", ldflags=_KUBE_LDFLAGS,
    packages={"kubelet": "k8s.io/kubernetes/cmd/kubelet",
              "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler"},
)
ETCD = GoTool(name="etcd", version="3.6.16", module="etcd",
              packages={"etcd": "go.etcd.io/etcd/server/v3"})
# OpenBao's release modules are not in the checksum database; go.sum pins them instead.
OPENBAO = GoTool(name="openbao", version="2.4.0", module="openbao",
                 packages={"bao": "github.com/openbao/openbao"},
                 env={"GONOSUMDB": "github.com/openbao"})
HELM = GoTool(name="helm", version="3.19.5", module="helm",
              packages={"helm": "helm.sh/helm/v3/cmd/helm"},
              ldflags=("-X helm.sh/helm/v3/internal/version.version=v3.19.5",))
# The chart install test's ingress controller (tests/integration/chart_install/ingress.py).
# Its version stays "dev": a release build would ask the internet for a newer one.
TRAEFIK = GoTool(name="traefik", version="3.6.12", module="traefik",
                 packages={"traefik": "github.com/traefik/traefik/v3/cmd/traefik"})
KAFKA = MavenLibraries(name="kafka", version="4.1.1", pom_dir="kafka")
KEYCLOAK = KeycloakDist(
    name="keycloak", version="26.5.6",
    # One node on loopback: local caches, no JGroups cluster to discover.
    build_options=("--db=postgres", "--health-enabled=true", "--metrics-enabled=true",
                   "--cache=local"),
)

ALL_TOOLS: tuple[Tool, ...] = (DEBIAN, KAFKA, KEYCLOAK, ETCD, OPENBAO, KUBE, HELM, WIDGET, INBOX,
                               GUIDES_SITE)
# Built by `tools kube-node`, and by `up` when the stack runs a node (unless SIMPTU_NODE=0).
NODE_DEBIAN = DebianPackages(
    name="debian-node", version="bookworm",
    binaries={"/usr/bin/containerd": "containerd", "/usr/sbin/runc": "runc",
              "/usr/lib/cni/bridge": "containernetworking-plugins",
              "/bin/busybox": "busybox-static", "/usr/bin/gcc": "gcc",
              "/usr/lib/x86_64-linux-gnu/libc.a": "libc6-dev",
              # The platform's image: its base from Debian packages, built from the Dockerfile.
              "/usr/bin/mmdebstrap": "mmdebstrap", "/usr/bin/buildah": "buildah"},
)
# What the browser tests and the guides' examples (tests/e2e/web) run, installed by them when
# missing: the browser, and the curl and jq of the guides.
WEB_TEST_PACKAGES = DebianPackages(
    name="web-tests", version="bookworm",
    binaries={"/usr/bin/chromium": "chromium", "/usr/bin/jq": "jq", "/usr/bin/curl": "curl"})
NODE_TOOLS: tuple[Tool, ...] = (NODE_DEBIAN, KUBE_NODE, PLATFORM_IMAGE_TOOL, TRAEFIK)


def ensure_all(cache_root: Path, names: list[str] | None = None) -> None:
    for tool in (*ALL_TOOLS, *NODE_TOOLS) if names else ALL_TOOLS:
        if names and tool.name not in names:
            continue
        tool.ensure(cache_root)
