"""What a tenant's Redis ACL user adds to its provisioning, against the running local stack
(`make up`); prints a markdown table.

    .venv/bin/python bench/bench_redis_acl.py [--runs N]

Each run is a new tenant's share of the operator's AgentReady step: `redis_acl.ensure` (its
Secret looked up, a password made, ACL SETUSER), the Secret `agent-redis` applied server-side
in its namespace, and `redis_acl.check` (ACL GETUSER). A rotation (a second password, the
Secret applied again) is timed the same way. The namespace is made beforehand and, with the
user, removed afterwards (neither is timed: the namespace is the workload's own).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from kubernetes import config as k8s_config
from provisioning_table import Timings, run  # a script beside this one: bench/ is on sys.path

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.operator import redis_acl
from simptu.operator.kube_objects import KubeObjects
from simptu.runtime.core.redis_client import connect_redis
from simptu.runtime.core.tenancy import TenantNames

ENV = StackEnv.load(DevstackSettings().env_file)


def _secret(tenant: TenantNames, credentials: redis_acl.Credentials) -> dict[str, Any]:
    secret = credentials.secret(tenant, ENV["SIMPTU_REDIS_URL"])
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": secret.name, "namespace": tenant.namespace,
                         "annotations": secret.annotations},
            "stringData": secret.values}


def _namespace(tenant: TenantNames) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": tenant.namespace}}


async def _provision(redis: Any, objects: KubeObjects, tenant: TenantNames,
                     rotation: str) -> float:
    body = {"metadata": {"name": tenant.slug,
                         "annotations": {redis_acl.ROTATE_ANNOTATION: rotation}}}
    started = time.perf_counter()
    credentials = await redis_acl.ensure(redis, objects, tenant, body)
    await objects.apply([_secret(tenant, credentials)])
    problem = await redis_acl.check(redis, tenant, credentials)
    elapsed = time.perf_counter() - started
    assert problem is None, problem
    return elapsed


async def measure(runs: int) -> Timings:
    redis = connect_redis(ENV["SIMPTU_REDIS_URL"])
    objects = await KubeObjects.connect(k8s_config.new_client_from_config(ENV.kubeconfig))
    timings: Timings = {"new tenant": [], "rotation": []}
    try:
        for _ in range(runs):
            tenant = TenantNames(f"bench-redis-{uuid.uuid4().hex[:8]}")
            await objects.apply([_namespace(tenant)])
            try:
                timings["new tenant"].append(await _provision(redis, objects, tenant, ""))
                timings["rotation"].append(await _provision(redis, objects, tenant, "1"))
            finally:
                await redis_acl.remove(redis, tenant)
                await objects.delete([_namespace(tenant)])
    finally:
        await redis.aclose()
    return timings


if __name__ == "__main__":
    run(__doc__, "Redis users", measure)
