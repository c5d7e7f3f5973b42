"""charts/simptu installed on the local stack's own node, pointed at the stack's Postgres, Redis,
Kafka, OpenBao and Keycloak: the values for it (local-values.yaml, plus what differs per run),
the Secrets it expects, `helm install`/`upgrade`/`uninstall` and the waits for its Deployments.
Used by test_chart_install.py and bench/bench_helm.py; `remove` leaves nothing behind."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import secrets
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import hvac
import yaml

from simptu.devstack.envfile import StackEnv
from simptu.devstack.images import PLATFORM_IMAGE, PLATFORM_VERSION
from simptu.runtime.core.events.kafka_users import (
    PLATFORM_GRANTS,
    delete_user,
    grant,
    new_password,
    upsert_credential,
)
from simptu.runtime.core.events.topics import kafka_admin
from simptu.vault.bootstrap import ensure_kubernetes_role
from simptu.vault.policies import OPERATOR_POLICY, RUNTIME_POLICY
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "charts" / "simptu"
LOCAL_VALUES = Path(__file__).with_name("local-values.yaml")
PEERING = "simptu-operator"  # the stack's ClusterKopfPeering, which the chart's operator joins
POLL = 1.0  # seconds between looks at the cluster
# Tenants' hosts are `<slug>.<BASE_DOMAIN>` (a reserved name, never looked up: clients send it
# as the Host header to the ingress controller on loopback).
BASE_DOMAIN = "chart-install.test"
# The chart's runtimes with a Kafka login of their own on a SASL broker (no channel senders
# here: local-values.yaml).
KAFKA_RUNTIMES = ("api", "ws", "relay")


def priority_above_every_earlier_peer() -> int:
    """Kopf pauses an operator while a peer of the same or higher priority is listed (a killed
    test operator's record lingers a minute): a priority from the clock is above all earlier
    ones, as tests/integration/operator's operators take theirs."""
    return int(time.time() * 10) % 10**9


@dataclass(frozen=True)
class Ports:
    """The node's ports of the chart's runtimes (hostNetwork): free ones, not the stack's own
    (its operator's webhook holds 58443, the chart's default)."""

    api: int
    ws: int
    relay: int
    operator: int
    webhook: int

    @classmethod
    def free(cls) -> Ports:
        chosen: list[int] = []
        while len(chosen) < 5:
            port = free_port()
            if port not in chosen:
                chosen.append(port)
        return cls(*chosen)


@dataclass
class LocalRelease:
    """One release of the chart in a namespace of its own."""

    stack: StackEnv
    name: str = field(default_factory=lambda: f"c{uuid.uuid4().hex[:8]}")
    ports: Ports = field(default_factory=Ports.free)
    priority: int = field(default_factory=priority_above_every_earlier_peer)
    guest_token_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    kafka_passwords: dict[str, str] = field(default_factory=lambda: {
        runtime: new_password() for runtime in KAFKA_RUNTIMES})

    @property
    def namespace(self) -> str:
        return f"chart-{self.name}"

    @property
    def fullname(self) -> str:
        return f"{self.name}-simptu"

    @cached_property
    def node_address(self) -> str:
        """The node's InternalIP (its pod bridge, on this machine only): the address of every
        hostNetwork pod, so where kube-apiserver finds the webhook behind its Service."""
        node = json.loads(self.kubectl("get", "nodes", "-o", "json"))["items"][0]
        return next(str(address["address"]) for address in node["status"]["addresses"]
                    if address["type"] == "InternalIP")

    @property
    def api_url(self) -> str:
        return f"http://{self.node_address}:{self.ports.api}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.node_address}:{self.ports.ws}/socket"

    @property
    def operator_url(self) -> str:
        return f"http://{self.node_address}:{self.ports.operator}"

    @property
    def ingress_class(self) -> str:
        """The IngressClass of the release's Ingress (ingress.IngressController serves it)."""
        return f"{self.name}-ingress"

    @property
    def platform_host(self) -> str:
        return f"api.{BASE_DOMAIN}"

    def tenant_host(self, slug: str) -> str:
        return f"{slug}.{BASE_DOMAIN}"

    @property
    def webhook_configuration(self) -> str:
        """The chart's ValidatingWebhookConfiguration (the stack's operator has its own,
        `tenants.simptu.io`)."""
        return f"{self.fullname}-tenants.simptu.io"

    def values(self) -> dict[str, Any]:
        """What differs per run and per stack; local-values.yaml holds the rest."""
        apiserver = urlsplit(self.stack["SIMPTU_KUBE_APISERVER"])
        return {
            "image": {"tag": PLATFORM_VERSION},
            "bindAddress": self.node_address,
            "publicBaseUrl": self.stack.values.get("SIMPTU_PUBLIC_BASE_URL", ""),
            "kafka": {"bootstrap": self.stack.kafka_bootstrap, "sasl": self._kafka_sasl()},
            "openbao": {"address": self.stack["SIMPTU_BAO_ADDR"], "kubernetesAuth": {
                "runtimeRole": self.bao_roles["runtime"],
                "operatorRole": self.bao_roles["operator"]}},
            "keycloak": {"url": self.stack["SIMPTU_KEYCLOAK_URL"]},
            "api": {"port": self.ports.api},
            "ws": {"port": self.ports.ws},
            "relay": {"port": self.ports.relay},
            # Plain HTTP: the controller listens on loopback only.
            "ingress": {"className": self.ingress_class, "baseDomain": BASE_DOMAIN,
                        "platformHost": self.platform_host, "tls": {"enabled": False}},
            "operator": {
                "port": self.ports.operator, "priority": self.priority,
                "webhook": {"port": self.ports.webhook},
                # The agents' image as the stack's operator stamps it: while this operator
                # leads it reconciles the demo tenants too, and must change nothing of theirs.
                "agent": {"image": PLATFORM_IMAGE},
                # No kube-proxy here: the `kubernetes` Service's ClusterIP leads nowhere, so the
                # in-cluster config points at kube-apiserver itself (its certificate names
                # 127.0.0.1); an explicit env var wins over the kubelet's service variables.
                "extraEnv": [{"name": "KUBERNETES_SERVICE_HOST", "value": apiserver.hostname},
                             {"name": "KUBERNETES_SERVICE_PORT", "value": str(apiserver.port)}]},
        }

    def _kafka_sasl(self) -> dict[str, Any]:
        """On a SASL broker: the operator logs in as the stack's admin, each runtime as its own
        user of this release (`kafka_users`); on a plaintext one, no login."""
        mechanism = self.stack.kafka.mechanism
        if not mechanism:
            return {"mechanism": ""}
        return {"mechanism": mechanism, "existingSecret": "simptu-kafka-operator",
                "runtimeSecrets": {runtime: f"simptu-kafka-{runtime}"
                                   for runtime in KAFKA_RUNTIMES}}

    def kafka_user(self, runtime: str) -> str:
        return f"{self.name}-{runtime}"

    def _kafka_secrets(self) -> dict[str, dict[str, str]]:
        kafka = self.stack.kafka
        if not kafka.mechanism:
            return {}
        logins = {"operator": (kafka.username, kafka.password), **{
            runtime: (self.kafka_user(runtime), password)
            for runtime, password in self.kafka_passwords.items()}}
        return {f"simptu-kafka-{who}": {"username": user, "password": password}
                for who, (user, password) in logins.items()}

    async def _kafka_users(self, present: bool) -> None:
        """What README asks of a platform team on a SASL broker: a user for each runtime with
        the least it needs (the grants of the stack's own `simptu-<runtime>`); or their removal."""
        kafka = self.stack.kafka
        if not kafka.mechanism:
            return
        async with kafka_admin(kafka) as admin:
            for runtime, password in self.kafka_passwords.items():
                user = self.kafka_user(runtime)
                if present:
                    await upsert_credential(admin, user, password, kafka.mechanism)
                    await grant(admin, user, PLATFORM_GRANTS[f"simptu-{runtime}"])
                else:
                    await delete_user(admin, user, kafka.mechanism)

    def _secrets(self) -> list[dict[str, Any]]:
        """The existingSecrets local-values.yaml names, with the stack's own credentials (the
        same the stack's operator has: the demo tenants' agent Secrets stay as they are)."""
        s = self.stack
        data = {"simptu-postgres": {"url": s.database_url},
                "simptu-redis": {"url": s.redis_url},
                "simptu-keycloak": {"username": s["SIMPTU_KEYCLOAK_ADMIN_USER"],
                                    "password": s["SIMPTU_KEYCLOAK_ADMIN_PASSWORD"],
                                    "realm-secret-key": s["SIMPTU_KEYCLOAK_REALM_SECRET_KEY"]},
                "simptu-platform": {"guest-token-secret": self.guest_token_secret},
                **self._kafka_secrets()}
        return [{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                 "metadata": {"name": name, "namespace": self.namespace},
                 "stringData": values} for name, values in data.items()]

    @property
    def bao_roles(self) -> dict[str, str]:
        """This release's OpenBao Kubernetes auth roles, by the ServiceAccount they admit."""
        return {"runtime": f"{self.name}-runtime", "operator": f"{self.name}-operator"}

    def _bao_admin(self) -> hvac.Client:
        return hvac.Client(url=self.stack["BAO_ADDR"], token=self.stack["BAO_TOKEN"], timeout=10)

    def write_bao_roles(self) -> None:
        """What README's OpenBao section asks of a platform team before installing: a role
        for the runtimes' ServiceAccount and one for the operator's, with the platform's
        policies (`make up` wrote those)."""
        for who, policy in (("runtime", RUNTIME_POLICY), ("operator", OPERATOR_POLICY)):
            ensure_kubernetes_role(self._bao_admin(), self.bao_roles[who], policy,
                                   namespace=self.namespace,
                                   service_accounts=[f"{self.fullname}-{who}"])

    def remove_bao_roles(self) -> None:
        for role in self.bao_roles.values():
            self._bao_admin().auth.kubernetes.delete_role(role)

    # The tools, as a platform team runs them.
    def kubectl(self, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
        done = subprocess.run([self.stack["SIMPTU_KUBECTL"], "--kubeconfig",
                               self.stack.kubeconfig, *args], input=stdin, capture_output=True,
                              text=True, check=False, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def helm(self, *args: str, timeout: float = 360) -> str:
        done = subprocess.run([self.stack["SIMPTU_HELM"], "--kubeconfig", self.stack.kubeconfig,
                               "--namespace", self.namespace, *args], capture_output=True,
                              text=True, check=False, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"helm {' '.join(args)}: {done.stderr.strip()}\n"
                               f"{self.pods_report()}")
        return done.stdout

    def values_file(self, extra: dict[str, Any]) -> Path:
        """This run's values as a file for `helm -f` (no credentials in it: those are in the
        Secrets)."""
        path = Path(tempfile.gettempdir()) / f"simptu-chart-{self.name}.yaml"
        path.write_text(yaml.safe_dump(_merged(self.values(), extra)))
        return path

    def install(self, timeout: float = 300) -> float:
        """The namespace and Secrets, then `helm install`; seconds from `helm install` until
        every Deployment is Available."""
        self.kubectl("create", "namespace", self.namespace)
        self.kubectl("apply", "-f", "-", stdin=json.dumps(
            {"apiVersion": "v1", "kind": "List", "items": self._secrets()}))
        self.write_bao_roles()
        asyncio.run(self._kafka_users(present=True))
        started = time.monotonic()
        # Helm waits for the migrations' hook Job; the Deployments are waited for here.
        self.helm("install", self.name, str(CHART), "-f", str(LOCAL_VALUES),
                  "-f", str(self.values_file({})), "--timeout", f"{int(timeout)}s",
                  timeout=timeout + 30)
        self.wait_available(started + timeout)
        return time.monotonic() - started

    def upgrade(self, extra: dict[str, Any], timeout: float = 300) -> None:
        """`helm upgrade` with `extra` values on top, then every Deployment Available again."""
        started = time.monotonic()
        self.helm("upgrade", self.name, str(CHART), "-f", str(LOCAL_VALUES),
                  "-f", str(self.values_file(extra)), "--timeout", f"{int(timeout)}s",
                  timeout=timeout + 30)
        self.wait_available(started + timeout)

    def uninstall(self) -> None:
        self.helm("uninstall", self.name, "--wait", "--timeout", "120s", timeout=150)

    def deployments(self) -> list[dict[str, Any]]:
        found = json.loads(self.kubectl("get", "deployments", "-n", self.namespace, "-o", "json"))
        return list(found["items"])

    def pods(self, component: str | None = None) -> list[dict[str, Any]]:
        selector = f"app.kubernetes.io/instance={self.name}"
        if component:
            selector += f",app.kubernetes.io/component={component}"
        found = json.loads(self.kubectl("get", "pods", "-n", self.namespace, "-l", selector,
                                        "-o", "json"))
        return list(found["items"])

    def wait_available(self, deadline: float) -> None:
        """Until every Deployment has all its replicas updated and Available (and no old pod
        is left); at `deadline`, fails with what each pod is doing."""
        while True:
            deployments = self.deployments()
            if deployments and all(rolled_out(d) for d in deployments):
                return
            if time.monotonic() > deadline:
                waiting = [d["metadata"]["name"] for d in deployments if not rolled_out(d)]
                raise TimeoutError(f"Deployments not Available: {waiting}\n{self.pods_report()}")
            time.sleep(POLL)

    def pods_report(self) -> str:
        """Each pod's phase and its containers' states, and the last log lines of those that
        are not ready: what a failed wait shows."""
        try:
            pods = self.pods()
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            return f"(pods not listed: {error})"
        lines = []
        for pod in pods:
            name = pod["metadata"]["name"]
            states = [(c["name"], c.get("ready"), c.get("restartCount"), c.get("state"))
                      for c in (pod.get("status") or {}).get("containerStatuses") or []]
            lines.append(f"{name}: {(pod.get('status') or {}).get('phase')} {states}")
            if not all(ready for _, ready, _, _ in states) or not states:
                try:
                    lines.append(self.kubectl("logs", "-n", self.namespace, name,
                                              "--tail=15", timeout=20))
                except (RuntimeError, subprocess.TimeoutExpired) as error:
                    lines.append(f"  (no logs: {error})")
        return "\n".join(lines)

    def operator_pod(self) -> str:
        [pod] = [p["metadata"]["name"] for p in self.pods("operator")
                 if not p["metadata"].get("deletionTimestamp")]
        return str(pod)

    def wait_leading(self, deadline: float) -> None:
        """Until the chart's operator is listed in the stack's peering (with the highest
        priority there: the stack's operator pauses while it is)."""
        pod = self.operator_pod()
        while True:
            peering = json.loads(self.kubectl("get", "clusterkopfpeering", PEERING, "-o",
                                              "json"))
            if pod in (peering.get("status") or {}):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{pod} is not in the peering {PEERING}: "
                                   f"{peering.get('status')}")
            time.sleep(POLL)

    def outranked_by(self) -> list[str]:
        """Peers listed above the chart's operator now (another test's operator started later
        takes the lead from it while it runs)."""
        peering = json.loads(self.kubectl("get", "clusterkopfpeering", PEERING, "-o", "json"))
        now = dt.datetime.now(dt.UTC)
        return [peer for peer, record in (peering.get("status") or {}).items()
                if int(record.get("priority", 0)) > self.priority
                # Kopf ignores a record not renewed within its lifetime (a peer gone unclean).
                and dt.datetime.fromisoformat(record["lastseen"])
                + dt.timedelta(seconds=record.get("lifetime", 60)) > now]

    def remove(self) -> None:
        """Everything the release made, even after a failure: the release, its namespace and
        its cluster-scoped objects (the operator's ClusterRole and binding, a webhook
        configuration)."""
        # What a failed uninstall leaves is deleted below.
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.helm("uninstall", self.name, "--wait", "--timeout", "120s",
                      "--ignore-not-found", timeout=150)
        self.kubectl("delete", "clusterroles,clusterrolebindings,"
                     "validatingwebhookconfigurations", "-l",
                     f"app.kubernetes.io/instance={self.name}", "--ignore-not-found")
        self.kubectl("delete", "namespace", self.namespace, "--ignore-not-found",
                     "--timeout=120s", timeout=150)
        self.remove_bao_roles()  # deleting a missing role is no error
        asyncio.run(self._kafka_users(present=False))  # nor is a missing user
        (Path(tempfile.gettempdir()) / f"simptu-chart-{self.name}.yaml").unlink(missing_ok=True)


def rolled_out(deployment: dict[str, Any]) -> bool:
    """As `kubectl rollout status` judges it: the newest generation observed, every replica
    updated and available, no old replica left."""
    spec, status = deployment["spec"], deployment.get("status") or {}
    wanted = spec.get("replicas", 1)
    available = any(c["type"] == "Available" and c["status"] == "True"
                    for c in status.get("conditions") or [])
    return (status.get("observedGeneration", 0) >= deployment["metadata"]["generation"]
            and available and status.get("updatedReplicas", 0) == wanted
            and status.get("availableReplicas", 0) == wanted
            and status.get("replicas", 0) == wanted)


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` over `base`, maps merged key by key (as Helm merges values files)."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged
