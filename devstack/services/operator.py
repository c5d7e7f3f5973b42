"""The Tenant operator as a local process, with its CRDs installed and the demo tenants of
examples/tenants/ applied and brought to Ready (their Secrets get placeholder values)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import hvac
import yaml

from simptu.devstack import pki
from simptu.devstack.demo_channels import (
    TOKEN_KEYS,
    demo_booking_com_secret,
    demo_channel_secret,
    demo_mail_secret,
    demo_twilio_secret,
)
from simptu.devstack.envfile import platform_env, read_env_file
from simptu.devstack.images import PLATFORM_IMAGE
from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, NotReady, Service, kafka_mode_key
from simptu.devstack.services.kube import kubeconfig_path, pki_dir, server_url
from simptu.devstack.services.node import node_image_ids
from simptu.devstack.settings import REPO_ROOT
from simptu.devstack.toolchain.tools import KUBE
from simptu.vault.kubernetes_auth import enable_kubernetes_auth

EXAMPLES = REPO_ROOT / "examples" / "tenants"
# The ServiceAccount OpenBao uses to check agents' tokens (TokenReview needs auth-delegator).
REVIEWER = {"apiVersion": "v1", "kind": "List", "items": [
    {"apiVersion": "v1", "kind": "ServiceAccount",
     "metadata": {"name": "openbao-auth", "namespace": "kube-system"}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
     "metadata": {"name": "openbao-auth-delegator"},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                 "name": "system:auth-delegator"},
     "subjects": [{"kind": "ServiceAccount", "name": "openbao-auth",
                   "namespace": "kube-system"}]}]}
# With the stack's node (the default) each tenant's agent runs as its own pods, from the image
# built here, on the node's network (the stack's services listen on loopback only); AgentReady
# is their real readiness.
NODE_SETTINGS = {"SIMPTU_OPERATOR_AGENT_READINESS": "available",
                 "SIMPTU_OPERATOR_AGENT_IMAGE": PLATFORM_IMAGE,
                 "SIMPTU_OPERATOR_AGENT_HOST_NETWORK": "true"}
# Without it (SIMPTU_NODE=0) no node runs pods: the Deployment's existence is its readiness,
# and one local worker serves every tenant.
NO_NODE_SETTINGS = {"SIMPTU_OPERATOR_AGENT_READINESS": "declared"}


def stack_operator_settings(node: bool) -> dict[str, str]:
    """The operator settings of `make up`'s operator, for a stack with or without its node.
    Every operator started against the stack (tests start their own) must use them: while it
    leads it reconciles the demo tenants too, and with the other stack's settings it would roll
    their agent Deployments to an image that does not exist here (or declare pods that never
    run). Demo realms allow password logins."""
    return {"SIMPTU_OPERATOR_DEMO_REALMS": "true",
            **(NODE_SETTINGS if node else NO_NODE_SETTINGS)}


def demo_slugs() -> list[str]:
    """The demo tenants' names (examples/tenants/), in file order."""
    return [yaml.safe_load(example.read_text())["metadata"]["name"]
            for example in sorted(EXAMPLES.glob("*.yaml"))]


def demo_manifest(example: Path, ctx: Context) -> dict[str, Any]:
    """A demo tenant as `make up` applies it: its web origins also allow the API's own origin,
    where the demo page (`/demo/<slug>`) embeds the widget as the tenant's site would."""
    tenant: dict[str, Any] = yaml.safe_load(example.read_text())
    web = tenant["spec"].setdefault("channels", {}).setdefault("web", {})
    demo_origin = f"http://{ctx.settings.host}:{ctx.settings.api_port}"
    web["allowedOrigins"] = [*web.get("allowedOrigins", []), demo_origin]
    return tenant


PEERING = {"apiVersion": "kopf.dev/v1", "kind": "ClusterKopfPeering",
           "metadata": {"name": "simptu-operator"}}


ESTABLISHED_TRIES = 60


class Operator(Service):
    name = "operator"
    needs = ("postgres", "redis", "kafka", "openbao", "kube-controller-manager", "keycloak")

    def __init__(self) -> None:
        self._agents_checked = False  # once per `up`: after a roll old pods linger a while

    def _kubectl(self, ctx: Context, *args: str, stdin: str | None = None,
                 timeout: float = 120) -> str:
        argv = [str(ctx.tool_dir(KUBE) / "bin" / "kubectl"), "--kubeconfig",
                str(kubeconfig_path(ctx)), *args]
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False,
                              timeout=timeout)
        if done.returncode != 0:
            raise NotReady(f"kubectl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def prepare(self, ctx: Context) -> None:
        self._bootstrap_kubernetes_auth(ctx)
        self._kubectl(ctx, "apply", "--server-side", "-f", str(REPO_ROOT / "crds"))
        self._wait_established(ctx, "crd/tenants.simptu.io", "crd/clusterkopfpeerings.kopf.dev")
        self._kubectl(ctx, "apply", "-f", "-", stdin=json.dumps(PEERING))

    def _wait_established(self, ctx: Context, *crds: str) -> None:
        """`kubectl wait` for the CRDs, again while a CRD just made has no status yet (kubectl
        then fails at once with "accessor error" instead of waiting)."""
        for attempt in range(ESTABLISHED_TRIES):
            try:
                self._kubectl(ctx, "wait", "--for=condition=Established", "--timeout=60s",
                              *crds)
                return
            except NotReady as error:
                if "accessor error" not in str(error) or attempt == ESTABLISHED_TRIES - 1:
                    raise
                time.sleep(0.5)

    def _bootstrap_kubernetes_auth(self, ctx: Context) -> None:
        """Let OpenBao (outside the cluster here) review ServiceAccount tokens as `openbao-auth`."""
        self._kubectl(ctx, "apply", "-f", "-", stdin=json.dumps(REVIEWER))
        token = self._kubectl(ctx, "create", "token", "openbao-auth", "-n", "kube-system",
                              "--duration=8760h").strip()
        env = read_env_file(ctx.settings.env_file)
        admin = hvac.Client(url=env["BAO_ADDR"], token=env["BAO_TOKEN"], timeout=10)
        enable_kubernetes_auth(admin, server_url(ctx),
                               (pki_dir(ctx) / "ca.crt").read_text(), reviewer_jwt=token)

    def launch(self, ctx: Context) -> Launch:
        env = platform_env(ctx.settings.env_file)
        env.update(stack_operator_settings(ctx.settings.node),
                   SIMPTU_OPERATOR_PORT=str(ctx.settings.operator_port),
                   **self._webhook_settings(ctx))
        return Launch(argv=[sys.executable, "-m", "simptu.operator"], env=env)

    def settings_key(self, ctx: Context) -> str:
        """Its stack's operator settings: switching SIMPTU_NODE restarts it with the others,
        and so does switching Kafka's logins (it makes tenants' users only with its own)."""
        return json.dumps(stack_operator_settings(ctx.settings.node), sort_keys=True) \
            + kafka_mode_key(ctx)

    def _webhook_settings(self, ctx: Context) -> dict[str, str]:
        """The admission webhook on loopback, its certificate signed by the stack's CA (which
        becomes the webhook configuration's caBundle). Only this operator serves it: test
        operators get the env file, not these."""
        folder, host = pki_dir(ctx), ctx.settings.host
        if not (folder / "webhook.crt").exists():
            serving = pki.issue(pki.load_pair(folder, "ca"), "simptu-operator-webhook",
                                server=True, ip_addresses=(host,))
            pki.write_pair(serving, folder, "webhook")
        return {"SIMPTU_OPERATOR_WEBHOOK_PORT": str(ctx.settings.operator_webhook_port),
                "SIMPTU_OPERATOR_WEBHOOK_LISTEN_ADDRESS": host,
                "SIMPTU_OPERATOR_WEBHOOK_HOST": host,
                "SIMPTU_OPERATOR_WEBHOOK_CERT_FILE": str(folder / "webhook.crt"),
                "SIMPTU_OPERATOR_WEBHOOK_KEY_FILE": str(folder / "webhook.key"),
                "SIMPTU_OPERATOR_WEBHOOK_CA_FILE": str(folder / "ca.crt")}

    async def probe(self, ctx: Context) -> None:
        url = f"http://{ctx.settings.host}:{ctx.settings.operator_port}/readyz"
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.get(url)
        if answer.status_code != 200:
            raise NotReady(f"/readyz answered {answer.status_code}")

    async def configure(self, ctx: Context) -> None:
        """Roll agents that run an older image than the node's, apply the demo tenants and
        wait until each is Ready."""
        if ctx.settings.node and not self._agents_checked:
            await asyncio.to_thread(self._roll_outdated_agents, ctx)
            self._agents_checked = True
        for example in sorted(EXAMPLES.glob("*.yaml")):
            await asyncio.to_thread(self._kubectl, ctx, "apply", "-f", "-",
                                    stdin=json.dumps(demo_manifest(example, ctx)))
        demo = []
        for example in sorted(EXAMPLES.glob("*.yaml")):
            demo.append(await asyncio.to_thread(self._demo_secrets, ctx, example))
        phases = json.loads(await asyncio.to_thread(self._kubectl, ctx, "get", "tenants", "-o",
                                                    "json"))
        # Only the demo tenants: others (a benchmark's, a test's) are not `make up`'s business.
        waiting = [t["metadata"]["name"] for t in phases["items"]
                   if t["metadata"]["name"] in demo
                   and (t.get("status") or {}).get("phase") != "Ready"]
        if waiting:
            raise NotReady(f"demo tenants not Ready yet: {', '.join(waiting)}")

    def _roll_outdated_agents(self, ctx: Context) -> None:
        """Restart the agent Deployments whose pods run another image than the one the node now
        has under the platform image's name (`make up` rebuilt and imported it: same tag, new
        content). Compared by the pods' image IDs, so a rebuild is never missed and an
        unchanged image restarts nothing."""
        current = node_image_ids(ctx, PLATFORM_IMAGE)
        if not current:
            return
        pods = json.loads(self._kubectl(ctx, "get", "pods", "--all-namespaces", "-l",
                                        "app.kubernetes.io/name=agent", "-o", "json"))["items"]
        stale = sorted({
            pod["metadata"]["namespace"] for pod in pods
            if not pod["metadata"].get("deletionTimestamp")
            for status in (pod.get("status") or {}).get("containerStatuses") or []
            if status.get("imageID") and any(
                c["image"] == PLATFORM_IMAGE for c in pod["spec"]["containers"])
            and not any(digest in status["imageID"] for digest in current)})
        for namespace in stale:
            self._kubectl(ctx, "rollout", "restart", "deployment/agent", "-n", namespace)
        # `up` returns with every agent answering again (tests start right after it).
        for namespace in stale:
            self._kubectl(ctx, "rollout", "status", "deployment/agent", "-n", namespace,
                          "--timeout=600s", timeout=660)
        if stale:
            print(f"  rolled   the agents of {len(stale)} tenants (their pods ran an older "
                  f"{PLATFORM_IMAGE})", flush=True)

    def _demo_secrets(self, ctx: Context, example: Path) -> str:
        """Placeholder values for the Secrets a demo tenant names, once its namespace exists;
        returns the tenant's name."""
        tenant = yaml.safe_load(example.read_text())
        namespace = f"tenant-{tenant['metadata']['name']}"
        spec = tenant["spec"]
        references = [("agent", spec.get("agent", {}).get("credentialsSecretRef"))] + [
            (name, channel.get("secretRef")) for name, channel in spec.get("channels", {}).items()]
        for owner, reference in references:
            if not reference:
                continue
            # Meta's channels get the credentials the Graph API stand-in knows them by.
            slug = tenant["metadata"]["name"]
            values = (demo_channel_secret(slug, owner) if owner in TOKEN_KEYS else
                      demo_twilio_secret(slug) if owner == "twilio" else
                      demo_booking_com_secret(slug) if owner == "bookingCom" else
                      demo_mail_secret(reference.get("key", "password"),
                                       ctx.secret("mail_password")) if owner == "email" else
                      {reference.get("key", "credentials"): "demo-not-a-real-credential"})
            secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {
                "name": reference["name"], "namespace": namespace,
                "labels": {"simptu.io/demo": "true"}}, "stringData": values}
            self._kubectl(ctx, "apply", "-f", "-", stdin=json.dumps(secret))
        return str(tenant["metadata"]["name"])

    def endpoint(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{ctx.settings.operator_port}"
