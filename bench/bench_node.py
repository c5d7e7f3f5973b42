"""The stack's node: how fast a new Tenant's agent pod is Ready, what idle agent pods hold in
memory, and what the platform's image costs; prints a table.

    .venv/bin/python bench/bench_node.py [--tenants N] [--idle SECONDS]

Applies N tenants one after the other and measures `kubectl apply` -> the agent pod Ready (the
image is already in containerd), then, once they have all been idle a while, the resident
memory of each agent pod (the sum of VmRSS of the processes in the pod's memory cgroup): the
median, the largest and all N together. Then the image's size and how long its last build and
its last import into the node's containerd took (recorded by `make up`). Only this run's
tenants are deleted (policy Delete) afterwards. A stack started with SIMPTU_NODE=0 has no pods
to measure: says so.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
import uuid
from pathlib import Path

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from simptu.devstack.envfile import StackEnv
from simptu.devstack.images import PLATFORM_IMAGE, last_platform_build
from simptu.devstack.services.node import import_seconds
from simptu.devstack.settings import DevstackSettings
from simptu.operator.workloads import host_port

SETTINGS = DevstackSettings()
MEMORY_CGROUPS = Path("/sys/fs/cgroup/memory/kubepods")
AGENTS = "app.kubernetes.io/name=agent"
READY_TIMEOUT = 600.0  # a tenant whose pod is not Ready by then is reported, not waited for


def kubectl(env: StackEnv, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([env["SIMPTU_KUBECTL"], "--kubeconfig", env.kubeconfig, *args],
                          input=stdin, capture_output=True, text=True, check=True, timeout=1900)
    return done.stdout


def tenant(name: str) -> dict[str, object]:
    return {"apiVersion": "simptu.io/v1alpha1", "kind": "Tenant",
            "metadata": {"name": name, "labels": {"simptu.io/bench": "true"}},
            "spec": {"displayName": f"Bench {name}", "businessType": "gym",
                     "deletionPolicy": "Delete"}}


def free_names(core: k8s.CoreV1Api, count: int) -> list[str]:
    """Tenant names whose agents' ports (on the node's network, from the slug) clash with no
    running agent's nor with each other's (a clash would leave a pod Pending)."""
    taken = {port.host_port for pod in core.list_pod_for_all_namespaces(
        label_selector=AGENTS).items for container in pod.spec.containers
        for port in container.ports or [] if port.host_port}
    names: list[str] = []
    run = uuid.uuid4().hex[:6]
    while len(names) < count:
        name = f"bench-node-{run}-{uuid.uuid4().hex[:4]}"
        if host_port(name) not in taken:
            taken.add(host_port(name))
            names.append(name)
    return names


def ready_pod(core: k8s.CoreV1Api, namespace: str) -> k8s.V1Pod | None:
    for pod in core.list_namespaced_pod(namespace, label_selector=AGENTS).items:
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
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=3, help="tenants applied one by one")
    parser.add_argument("--idle", type=float, default=30.0,
                        help="seconds the agents idle before their memory is read")
    args = parser.parse_args()
    env = StackEnv.load(SETTINGS.env_file)
    if not env.node:
        print("the stack runs no node (started with SIMPTU_NODE=0): nothing to measure")
        return 0
    core = k8s.CoreV1Api(k8s_config.new_client_from_config(env.kubeconfig))
    names = free_names(core, args.tenants)
    seconds: list[float] = []
    pods: list[k8s.V1Pod] = []
    late: list[str] = []
    try:
        for name in names:
            started = time.monotonic()
            kubectl(env, "apply", "-f", "-", stdin=json.dumps(tenant(name)))
            while (pod := ready_pod(core, f"tenant-{name}")) is None:
                if time.monotonic() - started > READY_TIMEOUT:
                    late.append(name)
                    break
                time.sleep(0.2)
            if pod is not None:
                seconds.append(time.monotonic() - started)
                pods.append(pod)
        time.sleep(args.idle)  # idle: the model is loaded, no turn runs
        rss = [pod_rss_mib(pod.metadata.uid) for pod in pods]
    finally:
        kubectl(env, "delete", "tenants", *names, "--ignore-not-found", "--wait=true",
                "--timeout=1800s")
    built = last_platform_build(SETTINGS.tools_cache)  # never builds: measures what ran
    size = (built / "size").read_text().strip() if built else "no build found"
    build = (built or Path("/nonexistent")) / "build-seconds"
    imported = import_seconds(SETTINGS, PLATFORM_IMAGE)
    print("| measure | value |\n| --- | --- |")
    if seconds:
        print(f"| apply -> agent pod Ready, p50 ({len(seconds)} tenants, one by one) | "
              f"{statistics.median(seconds):.1f} s |")
        print(f"| apply -> agent pod Ready, max | {max(seconds):.1f} s |")
        print(f"| idle agent pod RSS, median / max | {statistics.median(rss):.0f} / "
              f"{max(rss):.0f} MiB |")
        print(f"| {len(rss)} idle agent pods together | {sum(rss):.0f} MiB |")
    if late:
        print(f"| tenants whose agent pod was not Ready in {READY_TIMEOUT:.0f} s | "
              f"{len(late)} |")
    print(f"| image {PLATFORM_IMAGE} | {size} |")
    print(f"| image build (last, archive included) | "
          f"{float(build.read_text()):.0f} s |" if build.exists() else
          "| image build (last) | not recorded (built before make up recorded it) |")
    print(f"| image import into the node's containerd (last) | {imported:.0f} s |"
          if imported is not None else "| image import (last) | not recorded |")
    return 1 if late else 0


if __name__ == "__main__":
    raise SystemExit(main())
