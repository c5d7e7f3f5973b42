"""Tenant operator benchmark against the running local stack (`make up`); prints a table.

    .venv/bin/python bench/bench_operator.py [--single N] [--burst N]

Measures the time from `kubectl apply` to `Ready` for single tenants applied one after the
other, then applies a burst of tenants at once and measures how long until all are Ready, the
operator's memory and its reconcile errors. Every tenant is deleted (policy Delete) afterwards.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings

SETTINGS = DevstackSettings()
ENV = StackEnv.load(SETTINGS.env_file)
METRICS = f"http://{SETTINGS.host}:{SETTINGS.operator_port}/metrics"


def kubectl(*args: str, stdin: str | None = None, timeout: float = 600) -> str:
    done = subprocess.run([ENV["SIMPTU_KUBECTL"], "--kubeconfig", ENV.kubeconfig, *args],
                          input=stdin, capture_output=True, text=True, check=True,
                          timeout=timeout)
    return done.stdout


def manifest(name: str) -> dict[str, object]:
    return {"apiVersion": "simptu.io/v1alpha1", "kind": "Tenant", "metadata": {
        "name": name, "labels": {"simptu.io/bench": "true"}},
        "spec": {"displayName": f"Bench {name}", "businessType": "gym",
                 "deletionPolicy": "Delete"}}


BENCH_LABEL = "simptu.io/bench=true"
TENANTS = ("simptu.io", "v1alpha1", "tenants")


def tenants_api() -> k8s.CustomObjectsApi:
    return k8s.CustomObjectsApi(k8s_config.new_client_from_config(ENV.kubeconfig))


def apply(names: list[str]) -> None:
    items = [manifest(name) for name in names]
    kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                  "items": items}))


def ready_names(items: list[dict[str, Any]]) -> set[str]:
    return {t["metadata"]["name"] for t in items
            if (t.get("status") or {}).get("phase") == "Ready"}


def wait_ready(api: k8s.CustomObjectsApi, names: list[str], timeout: float) -> float:
    """Seconds until every Tenant in `names` is Ready. Watches the Tenants (one connection
    the API server streams changes on) rather than polling with kubectl: a kubectl process a
    second took a seventh of the machine's CPU from what it measured."""
    started = time.monotonic()
    pending = set(names)
    while pending:
        listed = api.list_cluster_custom_object(*TENANTS, label_selector=BENCH_LABEL)
        pending -= ready_names(listed["items"])
        version = listed["metadata"]["resourceVersion"]
        try:
            for event in watch.Watch().stream(
                    api.list_cluster_custom_object, *TENANTS, label_selector=BENCH_LABEL,
                    resource_version=version, timeout_seconds=30):
                pending -= ready_names([event["object"]])
                if not pending:
                    break
        except ApiException as error:
            if error.status != 410:  # 410: the watch fell behind; list again
                raise
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{len(pending)} not Ready within {timeout}s")
    return time.monotonic() - started


def errors_so_far() -> float:
    text = httpx.get(METRICS, timeout=5).text
    for line in text.splitlines():
        if line.startswith('simptu_operator_reconciles_total{result="error"}'):
            return float(line.split()[-1])
    return 0.0


def operator_rss_mib() -> float:
    pid = json.loads((SETTINGS.state_dir / "run" / "operator.pid").read_text())["pid"]
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cleanup() -> None:
    # Deleting 210 Tenants (schemas, topics, realms, namespaces) took 11-12 minutes on a loaded
    # 2-core machine: more than the 10 it was given.
    kubectl("delete", "tenants", "-l", "simptu.io/bench=true", "--wait=true", "--timeout=1800s",
            timeout=1900)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--single", type=int, default=10, help="tenants applied one by one")
    parser.add_argument("--burst", type=int, default=200, help="tenants applied at once")
    args = parser.parse_args()
    run = uuid.uuid4().hex[:6]
    api = tenants_api()
    rows: list[tuple[str, str]] = []
    try:
        latencies = []
        for n in range(args.single):
            name = f"bench-{run}-one-{n}"
            started = time.monotonic()
            apply([name])
            wait_ready(api, [name], 120)
            latencies.append(time.monotonic() - started)
        rows += [("apply → Ready, one tenant, p50", f"{statistics.median(latencies):.2f} s"),
                 ("apply → Ready, one tenant, max", f"{max(latencies):.2f} s")]
        errors_before, rss_before = errors_so_far(), operator_rss_mib()
        burst = [f"bench-{run}-burst-{n}" for n in range(args.burst)]
        started = time.monotonic()
        apply(burst)
        wait_ready(api, burst, 900)
        rows += [(f"{args.burst} tenants applied at once → all Ready",
                  f"{time.monotonic() - started:.1f} s"),
                 ("operator memory (RSS) before → after the burst",
                  f"{rss_before:.0f} → {operator_rss_mib():.0f} MiB"),
                 ("reconcile errors during the burst", f"{errors_so_far() - errors_before:.0f}")]
    finally:
        started = time.monotonic()
        cleanup()
        rows.append(("delete every bench tenant (policy Delete)",
                     f"{time.monotonic() - started:.1f} s"))
    print("| operator (local stack) | value |\n| --- | ---: |")
    for what, value in rows:
        print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
