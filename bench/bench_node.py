"""The stack's node (SIMPTU_NODE=1): how fast a new Tenant's agent pod is Ready, and what an
idle agent pod holds in memory; prints a table.

    SIMPTU_NODE=1 .venv/bin/python bench/bench_node.py [--tenants N]

Applies N tenants one after the other and measures `kubectl apply` -> the agent pod Ready (the
image is already in containerd), then the resident memory of each idle agent pod (the sum of
VmRSS of the processes in the pod's memory cgroup) and of them all together. Every tenant is
deleted (policy Delete) afterwards. Without the node there are no pods to measure: says so.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from pathlib import Path

from bench_operator import apply, cleanup  # beside this script (on sys.path when run)
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from simptu.devstack.envfile import StackEnv
from simptu.devstack.images import PLATFORM_IMAGE, platform_archive
from simptu.devstack.settings import DevstackSettings

SETTINGS = DevstackSettings()
MEMORY_CGROUPS = Path("/sys/fs/cgroup/memory/kubepods")


def ready_pod(core: k8s.CoreV1Api, namespace: str) -> k8s.V1Pod | None:
    for pod in core.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/name=agent"
                                        ).items:
        if any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or []):
            return pod
    return None


def pod_rss_mib(uid: str) -> float:
    """Resident memory of every process of the pod (its cgroup, any QoS class)."""
    total = 0
    for group in MEMORY_CGROUPS.rglob(f"pod{uid}"):
        for procs in group.rglob("cgroup.procs"):
            for pid in procs.read_text().split():
                status = Path(f"/proc/{pid}/status")
                for line in status.read_text().splitlines() if status.exists() else ():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        break
    return total / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=3)
    args = parser.parse_args()
    env = StackEnv.load(SETTINGS.env_file)
    if not env.node:
        print("the stack runs no node (started with SIMPTU_NODE=0): nothing to measure")
        return 0
    core = k8s.CoreV1Api(k8s_config.new_client_from_config(env.kubeconfig))
    names = [f"bench-node-{uuid.uuid4().hex[:6]}-{i}" for i in range(args.tenants)]
    seconds, rss = [], []
    try:
        for name in names:
            started = time.monotonic()
            apply([name])
            while (pod := ready_pod(core, f"tenant-{name}")) is None:
                time.sleep(0.2)
            seconds.append(time.monotonic() - started)
            time.sleep(5)  # idle: the model is loaded, no turn runs
            rss.append(pod_rss_mib(pod.metadata.uid))
    finally:
        cleanup()
    archive = platform_archive(SETTINGS.tools_cache)
    size = (archive.parent / "size").read_text().strip()
    print("| measure | value |\n| --- | --- |")
    print(f"| apply -> agent pod Ready, p50 ({len(seconds)} tenants) | "
          f"{statistics.median(seconds):.1f} s |")
    print(f"| apply -> agent pod Ready, max | {max(seconds):.1f} s |")
    print(f"| idle agent pod RSS, median | {statistics.median(rss):.0f} MiB |")
    print(f"| {len(rss)} idle agent pods together | {sum(rss):.0f} MiB |")
    print(f"| image {PLATFORM_IMAGE} | {size} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
