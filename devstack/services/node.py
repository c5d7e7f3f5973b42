"""A real node in the local stack (SIMPTU_NODE=1): Debian's containerd (a private instance with
its own root, state and socket under .devstack/node), a kubelet and kube-scheduler built from
the stack's pinned k8s.io/kubernetes, and a pod network on a bridge the stack makes.

The node registers to the stack's kube-apiserver with a client certificate of the stack's CA
(`system:node:<name>`, group `system:nodes`), authorized by kube-apiserver's Node authorizer
(only what its pods need) and checked by NodeRestriction. Images are never
pulled: the sandbox (pause) and probe images are built here (devstack/images.py) and imported
into containerd; pods use `imagePullPolicy: IfNotPresent` or `Never`.

`down` leaves nothing behind: pods' processes, shims, mounts under .devstack/node, the bridge,
the CNI results cache and the `kubepods` cgroups of every hierarchy (see `cleanup`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from simptu.devstack import pki
from simptu.devstack.images import (
    NODE_IMAGES,
    PLATFORM_IMAGE,
    archive_digest,
    node_platform_archive,
)
from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, NotReady, Service
from simptu.devstack.services.kube import (
    admin_client,
    kubeconfig_path,
    pki_dir,
    write_kubeconfig,
)
from simptu.devstack.settings import DevstackSettings
from simptu.devstack.toolchain.tools import KUBE, KUBE_NODE

CNI_BIN = Path("/usr/lib/cni")
CNI_NETWORK = "simptu-pods"
CNI_RESULTS = Path("/var/lib/cni/results")
CGROUPS = Path("/sys/fs/cgroup")


def node_dir(ctx: Context) -> Path:
    return ctx.folder("node")


def containerd_socket(ctx: Context) -> Path:
    return node_dir(ctx) / "containerd" / "containerd.sock"


def node_ip(settings: DevstackSettings) -> str:
    """The node's address on the pod bridge: the pods' gateway, and where the host is for them."""
    return str(next(ipaddress.ip_network(settings.pod_cidr).hosts()))


def ctr(ctx: Context, *args: str, stdin: bytes | None = None) -> str:
    argv = ["ctr", "--address", str(containerd_socket(ctx)), "-n", "k8s.io", *args]
    # An import unpacks the platform image (several GB): minutes on a busy disk.
    done = subprocess.run(argv, input=stdin, capture_output=True, check=False, timeout=1800)
    if done.returncode != 0:
        raise NotReady(f"ctr {' '.join(args)}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout.decode()


def import_image(ctx: Context, archive: Path, name: str) -> None:
    """Load an OCI archive into the node's containerd unless `name` there is that very image
    (a rebuilt archive replaces it; layers already there are not copied again)."""
    listed = ctr(ctx, "images", "ls", f"name=={name}")
    if archive_digest(archive) in listed:
        return
    started = time.monotonic()
    ctr(ctx, "images", "import", str(archive))
    # How long the last import of each image took (bench/bench_node.py reports it).
    timings = node_dir(ctx) / "imports"
    timings.mkdir(exist_ok=True)
    (timings / f"{name.replace('/', '_').replace(':', '_')}.seconds").write_text(
        f"{time.monotonic() - started:.1f}\n")


def _node_image_manifest(ctx: Context, name: str) -> tuple[str, dict[str, Any]] | None:
    """The digest and content of the manifest the node's containerd has for `name` now."""
    if name not in ctr(ctx, "images", "ls", "--quiet", f"name=={name}").split():
        return None
    rows = ctr(ctx, "images", "ls", f"name=={name}").splitlines()[1:]
    digest = next(field for field in rows[0].split() if field.startswith("sha256:"))
    found: dict[str, Any] = json.loads(ctr(ctx, "content", "get", digest))
    if "manifests" in found:  # an index: the image's one manifest
        digest = found["manifests"][0]["digest"]
        found = json.loads(ctr(ctx, "content", "get", digest))
    return digest, found


def node_image_ids(ctx: Context, name: str) -> tuple[str, ...]:
    """The IDs the node's containerd has for the image `name` now: its manifest digest and its
    config digest (what a pod's container status reports as its imageID, bare or within a repo
    digest); none when the image is not there."""
    found = _node_image_manifest(ctx, name)
    return () if found is None else (found[0], str(found[1]["config"]["digest"]))


def node_image_config(ctx: Context, name: str) -> dict[str, Any]:
    """The OCI image configuration (user, entrypoint, labels, ...) of `name` on the node."""
    found = _node_image_manifest(ctx, name)
    if found is None:
        raise NotReady(f"the node has no image {name}")
    config: dict[str, Any] = json.loads(ctr(ctx, "content", "get", found[1]["config"]["digest"]))
    return config


def import_seconds(settings: DevstackSettings, name: str) -> float | None:
    """How long the last import of the image `name` into the node's containerd took."""
    path = (settings.service_dir("node") / "imports" /
            f"{name.replace('/', '_').replace(':', '_')}.seconds")
    return float(path.read_text()) if path.exists() else None


def _containerd_config(ctx: Context) -> str:
    base = node_dir(ctx) / "containerd"
    cri = {
        "sandbox_image": NODE_IMAGES[0].name,
        # No CAP_SYS_RESOURCE here; hugetlb is not mounted; no AppArmor.
        "restrict_oom_score_adj": True, "disable_hugetlb_controller": True,
        "tolerate_missing_hugetlb_controller": True, "disable_apparmor": True,
        "netns_mounts_under_state_dir": True,
        "stream_server_address": "127.0.0.1", "stream_server_port": "0",
        "containerd": {"snapshotter": "overlayfs", "default_runtime_name": "runc",
                       "runtimes": {"runc": {"runtime_type": "io.containerd.runc.v2",
                                             "options": {"SystemdCgroup": False}}}},
        "cni": {"bin_dir": str(CNI_BIN), "conf_dir": str(node_dir(ctx) / "cni")},
    }
    lines = ["version = 2", f'root = "{base / "root"}"', f'state = "{base / "state"}"',
             "[grpc]", f'address = "{containerd_socket(ctx)}"',
             "[ttrpc]", f'address = "{containerd_socket(ctx)}.ttrpc"',
             '[plugins."io.containerd.internal.v1.opt"]', f'path = "{base / "opt"}"',
             '[plugins."io.containerd.grpc.v1.cri"]']
    lines += _toml_table('plugins."io.containerd.grpc.v1.cri"', cri)
    return "\n".join(lines) + "\n"


def _toml_table(prefix: str, values: dict[str, object]) -> list[str]:
    """Scalars of `values` as `key = value` lines, then its sub-tables (enough TOML for this)."""
    lines = [f"{key} = {json.dumps(value)}" for key, value in values.items()
             if not isinstance(value, dict)]
    for key, value in values.items():
        if isinstance(value, dict):
            lines += [f"[{prefix}.{key}]", *_toml_table(f"{prefix}.{key}", value)]
    return lines


def _cni_config(ctx: Context) -> dict[str, object]:
    s = ctx.settings
    # No ipMasq and no portmap: pods reach only this machine (the node's address), and the
    # plugins add no iptables rules.
    return {"cniVersion": "1.0.0", "name": CNI_NETWORK, "plugins": [{
        "type": "bridge", "bridge": s.pod_bridge, "isGateway": True, "ipMasq": False,
        "hairpinMode": True,
        "ipam": {"type": "host-local", "dataDir": str(node_dir(ctx) / "ipam"),
                 "ranges": [[{"subnet": s.pod_cidr, "gateway": node_ip(s)}]]}}]}


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """A system tool (ip, umount) by its absolute path, output captured."""
    path = shutil.which(argv[0]) or argv[0]
    return subprocess.run([path, *argv[1:]], capture_output=True, text=True, check=check)


def _ensure_bridge(settings: DevstackSettings) -> None:
    """The pod bridge with the node's address, made before the kubelet (which checks that its
    node IP is on an interface); the CNI bridge plugin then finds it in place."""
    bridge = settings.pod_bridge
    if _run("ip", "link", "show", bridge, check=False).returncode != 0:
        _run("ip", "link", "add", bridge, "type", "bridge")
    prefix = ipaddress.ip_network(settings.pod_cidr).prefixlen
    if f"{node_ip(settings)}/" not in _run("ip", "-4", "addr", "show", bridge).stdout:
        _run("ip", "addr", "add", f"{node_ip(settings)}/{prefix}", "dev", bridge)
    _run("ip", "link", "set", bridge, "up")


class Containerd(Service):
    name = "containerd"

    def prepare(self, ctx: Context) -> None:
        cleanup_node(ctx)  # what a crashed run may have left
        folder = node_dir(ctx)
        (folder / "containerd").mkdir(exist_ok=True)
        (folder / "containerd" / "config.toml").write_text(_containerd_config(ctx))
        (folder / "cni").mkdir(exist_ok=True)
        (folder / "cni" / f"10-{CNI_NETWORK}.conflist").write_text(
            json.dumps(_cni_config(ctx), indent=2))
        _ensure_bridge(ctx.settings)
        for image in NODE_IMAGES:
            image.archive(ctx.settings.tools_cache)

    def launch(self, ctx: Context) -> Launch:
        return Launch(argv=["containerd", "--config",
                            str(node_dir(ctx) / "containerd" / "config.toml")])

    async def probe(self, ctx: Context) -> None:
        await asyncio.to_thread(ctr, ctx, "version")

    async def configure(self, ctx: Context) -> None:
        cache = ctx.settings.tools_cache
        images = [(image.archive(cache), image.name) for image in NODE_IMAGES]
        images.append((node_platform_archive(cache, ctx.settings.rebuild_images),
                       PLATFORM_IMAGE))
        for archive, name in images:
            await asyncio.to_thread(import_image, ctx, archive, name)

    def cleanup(self, ctx: Context) -> None:
        if ctx.settings.service_dir("node").is_dir():  # a node ran from this state folder
            cleanup_node(ctx)

    def endpoint(self, ctx: Context) -> str:
        return f"unix://{containerd_socket(ctx)}"


# What an earlier stack bound: the system:node role for every node, on any object. The Node
# authorizer now gives a node only what its pods need; the binding goes.
BROAD_NODE_BINDING = "simptu-node"


class Kubelet(Service):
    name = "kubelet"
    needs = ("containerd", "kube-controller-manager")

    def prepare(self, ctx: Context) -> None:
        s, folder = ctx.settings, node_dir(ctx)
        certs = pki_dir(ctx)
        if not (certs / "node.crt").exists():
            node = pki.issue(pki.load_pair(certs, "client-ca"), f"system:node:{s.node_name}",
                             organization="system:nodes")
            pki.write_pair(node, certs, "node")
        write_kubeconfig(ctx, folder / "kubelet.kubeconfig", "node")
        subprocess.run([str(ctx.tool_dir(KUBE) / "bin" / "kubectl"), "--kubeconfig",
                        str(kubeconfig_path(ctx)), "delete", "clusterrolebinding",
                        BROAD_NODE_BINDING, "--ignore-not-found"],
                       text=True, check=True, capture_output=True)
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
            "address": node_ip(s), "port": s.kubelet_port, "readOnlyPort": 0,
            "healthzBindAddress": s.host, "healthzPort": s.kubelet_healthz_port,
            "cgroupDriver": "cgroupfs", "failCgroupV1": False, "failSwapOn": False,
            "containerRuntimeEndpoint": f"unix://{containerd_socket(ctx)}",
            # Imported images cannot be pulled again: never collect them.
            "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
            "evictionHard": {"memory.available": "200Mi", "nodefs.available": "2%",
                             "imagefs.available": "2%"},
            "makeIPTablesUtilChains": False, "serializeImagePulls": False,
            "podLogsDir": str(folder / "pod-logs"),
            "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                               "x509": {"clientCAFile": str(certs / "client-ca.crt")}},
            "authorization": {"mode": "Webhook"},
            "clusterDomain": "cluster.local",
        }
        (folder / "kubelet.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    def launch(self, ctx: Context) -> Launch:
        folder = node_dir(ctx)
        return Launch(argv=[
            str(ctx.tool_dir(KUBE_NODE) / "bin" / "kubelet"),
            f"--config={folder / 'kubelet.yaml'}",
            f"--kubeconfig={folder / 'kubelet.kubeconfig'}",
            f"--root-dir={folder / 'kubelet'}", f"--cert-dir={folder / 'kubelet-pki'}",
            f"--node-ip={node_ip(ctx.settings)}", f"--hostname-override={ctx.settings.node_name}",
            "--v=1"])

    async def probe(self, ctx: Context) -> None:
        async with admin_client(ctx) as client:
            answer = await client.get(f"/api/v1/nodes/{ctx.settings.node_name}")
        if answer.status_code != 200:
            raise NotReady(f"node {ctx.settings.node_name} is not registered yet")
        conditions = answer.json().get("status", {}).get("conditions", [])
        if not any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
            raise NotReady(f"node {ctx.settings.node_name} is not Ready yet")

    def cleanup(self, ctx: Context) -> None:
        """Stop every pod's processes (the kubelet is gone, containerd still runs)."""
        if ctx.settings.service_dir("node").is_dir():
            _kill_pods()

    def endpoint(self, ctx: Context) -> str:
        return f"https://{node_ip(ctx.settings)}:{ctx.settings.kubelet_port}"

    def hint(self, ctx: Context) -> str:
        return (f"node {ctx.settings.node_name}: pods with "
                f"`kubectl --kubeconfig {kubeconfig_path(ctx)} get pods -A -o wide`")


class KubeScheduler(Service):
    name = "kube-scheduler"
    needs = ("kube-apiserver",)

    def launch(self, ctx: Context) -> Launch:
        kubeconfig = str(kubeconfig_path(ctx))
        return Launch(argv=[
            str(ctx.tool_dir(KUBE_NODE) / "bin" / "kube-scheduler"),
            f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}", f"--bind-address={ctx.settings.host}",
            f"--secure-port={ctx.settings.kube_scheduler_port}",
            f"--cert-dir={node_dir(ctx) / 'scheduler-pki'}", "--leader-elect=false", "--v=1"])

    async def probe(self, ctx: Context) -> None:
        # Its serving certificate is self-signed (in --cert-dir); only liveness is asked here.
        async with httpx.AsyncClient(timeout=5, verify=False) as client:  # noqa: S501
            answer = await client.get(f"{self.endpoint(ctx)}/healthz")
        if answer.status_code != 200:
            raise NotReady(f"/healthz answered {answer.status_code}: {answer.text[:200]}")

    def endpoint(self, ctx: Context) -> str:
        return f"https://{ctx.settings.host}:{ctx.settings.kube_scheduler_port}"


def _kubepods_cgroups() -> list[Path]:
    """Every `kubepods` cgroup of every hierarchy (v1 controllers and the unified one), deepest
    first."""
    found = [path for hierarchy in CGROUPS.iterdir() for path in
             (hierarchy / "kubepods").rglob("*") if path.is_dir()]
    found += [hierarchy / "kubepods" for hierarchy in CGROUPS.iterdir()
              if (hierarchy / "kubepods").is_dir()]
    return sorted(found, key=lambda path: len(path.parts), reverse=True)


def _kill_pods() -> None:
    """SIGKILL every process in the kubepods cgroups (the pods' containers and sandboxes)."""
    for group in _kubepods_cgroups():
        with contextlib.suppress(OSError):
            for pid in (group / "cgroup.procs").read_text().split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)


def _our_shims(ctx: Context) -> list[int]:
    """Pids of containerd shims started by this stack's containerd (their argv names its socket)."""
    socket, pids = str(containerd_socket(ctx)), []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                argv = (proc / "cmdline").read_bytes().split(b"\0")
                if argv[0].endswith(b"containerd-shim-runc-v2") and socket.encode() in argv:
                    pids.append(int(proc.name))
    return pids


def _mounts_under(folder: Path) -> list[str]:
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == str(folder) or point.startswith(f"{folder}/"):
            points.append(point)
    return sorted(points, key=lambda p: p.count("/"), reverse=True)


def cleanup_node(ctx: Context) -> None:
    """Remove what the node leaves on the machine once its processes are stopped: pods'
    processes and shims, mounts (kubelet's bind mount, volumes, rootfs, netns), the pod bridge,
    the CNI results cache, and the empty kubepods cgroups."""
    _kill_pods()
    for pid in _our_shims(ctx):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _our_shims(ctx) and time.monotonic() < deadline:
        time.sleep(0.1)
    for point in _mounts_under(node_dir(ctx)):
        _run("umount", "-l", point, check=False)
    bridge = ctx.settings.pod_bridge
    if _run("ip", "link", "show", bridge, check=False).returncode == 0:
        _run("ip", "link", "delete", bridge)
    if CNI_RESULTS.is_dir():
        for result in CNI_RESULTS.glob(f"{CNI_NETWORK}-*"):
            result.unlink()
    shutil.rmtree(node_dir(ctx) / "ipam", ignore_errors=True)
    for group in _kubepods_cgroups():
        with contextlib.suppress(OSError):
            group.rmdir()


NODE_SERVICES: tuple[Service, ...] = (Containerd(), KubeScheduler(), Kubelet())
