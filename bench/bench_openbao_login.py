"""OpenBao credentials benchmark against the running local stack (`make up`); prints a table.

    .venv/bin/python bench/bench_openbao_login.py [--runs N]

What the per-tenant OpenBao access adds to a tenant's provisioning (issue 17, goal < 1 s p50):
the operator, logged in with its own AppRole, writes the tenant's policy and its Kubernetes
auth role (operator/vault.py's step, without the transit key the platform made before). Also
the logins themselves: an agent's Kubernetes login (OpenBao asks kube-apiserver's TokenReview)
and a runtime's AppRole login. Everything made is removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Callable

import hvac
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from simptu.devstack.envfile import StackEnv
from simptu.devstack.services.operator import demo_slugs
from simptu.devstack.settings import DevstackSettings
from simptu.operator import vault
from simptu.runtime.core.crypto import BaoLogin, BaoSession
from simptu.runtime.core.tenancy import TenantNames

ENV = StackEnv.load(DevstackSettings().env_file)


def timed(step: Callable[[], object], runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - started)
    return seconds


def approle(role_id: str, secret_id: str) -> BaoSession:
    return BaoSession(ENV["BAO_ADDR"], BaoLogin(method="approle", mount="approle",
                                                role_id=role_id, secret_id=secret_id))


def row(what: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"| {what} | {len(seconds)} | {statistics.median(seconds) * 1000:.1f} | "
            f"{p95 * 1000:.1f} | {max(seconds) * 1000:.1f} |")


async def provisioning(admin: vault.BaoAdmin, runs: int) -> tuple[list[float], list[float]]:
    """Seconds of the policy-and-role step per new tenant, and of its removal."""
    tenants = [TenantNames(f"bench-{uuid.uuid4().hex[:8]}") for _ in range(runs)]
    made, removed = [], []
    for tenant in tenants:
        started = time.perf_counter()
        await admin.run(vault._ensure_access, tenant)  # the step measured
        made.append(time.perf_counter() - started)
    for tenant in tenants:
        started = time.perf_counter()
        await admin.run(vault._remove_access, tenant)  # the step measured
        removed.append(time.perf_counter() - started)
    return made, removed


def agent_login_step(kube: k8s.ApiClient, namespace: str, role: str) -> Callable[[], object]:
    request = k8s.AuthenticationV1TokenRequest(spec=k8s.V1TokenRequestSpec(
        audiences=["openbao"], expiration_seconds=600))
    jwt = k8s.CoreV1Api(kube).create_namespaced_service_account_token(
        "agent", namespace, request).status.token
    client = hvac.Client(url=ENV["BAO_ADDR"], token="", timeout=10)
    return lambda: client.auth.kubernetes.login(role=role, jwt=jwt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="tenants (and logins) timed")
    args = parser.parse_args()
    operator = approle(ENV["SIMPTU_OPERATOR_BAO_ROLE_ID"], ENV["SIMPTU_OPERATOR_BAO_SECRET_ID"])
    made, removed = asyncio.run(provisioning(vault.BaoAdmin(operator), args.runs))
    runtime = approle(ENV["SIMPTU_BAO_ROLE_ID"], ENV["SIMPTU_BAO_SECRET_ID"])
    approle_logins = timed(lambda: runtime.login.authenticate(runtime.client), args.runs)
    kube = k8s_config.new_client_from_config(ENV.kubeconfig)
    demo = TenantNames(demo_slugs()[0])  # its namespace and agent ServiceAccount exist
    step = agent_login_step(kube, demo.namespace, demo.transit_key)
    rows = [row("tenant's policy + Kubernetes auth role written (operator's AppRole)", made),
            row("tenant's policy + role removed (Delete/Shred)", removed),
            row("runtime AppRole login", approle_logins),
            row(f"agent Kubernetes login ({demo.slug}, TokenReview)", timed(step, args.runs))]
    print("| step | runs | p50 ms | p95 ms | max ms |\n| --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
