"""kube-apiserver on etcd, envtest-style, plus kube-controller-manager so that garbage
collection, namespace deletion, service accounts and Deployments behave as in a cluster.
"""

from __future__ import annotations

import base64
import json
import ssl
from pathlib import Path

import httpx
import yaml

from simptu.devstack import pki
from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, NotReady, Service
from simptu.devstack.toolchain.tools import KUBE

SERVICE_CIDR = "10.0.0.0/24"
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
KUBERNETES_NAMES = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                    "kubernetes.default.svc.cluster.local")
# kube-apiserver's identity towards kubelets (logs, exec, port-forward), bound to
# system:kubelet-api-admin, the role kubelets' webhook authorization asks about.
KUBELET_CLIENT = "kube-apiserver-kubelet-client"
KUBELET_CLIENT_BINDING_NAME = "simptu-kube-apiserver-kubelet-client"
KUBELET_CLIENT_BINDING = {
    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
    "metadata": {"name": KUBELET_CLIENT_BINDING_NAME},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                "name": "system:kubelet-api-admin"},
    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                  "name": KUBELET_CLIENT}]}


def pki_dir(ctx: Context) -> Path:
    return ctx.folder("kube") / "pki"


def kubeconfig_path(ctx: Context) -> Path:
    return ctx.folder("kube") / "kubeconfig"


def server_url(ctx: Context) -> str:
    return f"https://{ctx.settings.host}:{ctx.settings.kube_apiserver_port}"


def _ensure_pki(ctx: Context) -> None:
    folder = pki_dir(ctx)
    if (folder / "admin.crt").exists():
        return
    ca = pki.make_ca("simptu-devstack-ca")
    pki.write_pair(ca, folder, "ca")
    serving = pki.issue(ca, "kube-apiserver", server=True,
                        dns_names=KUBERNETES_NAMES,
                        ip_addresses=(ctx.settings.host, "10.0.0.1"))
    pki.write_pair(serving, folder, "apiserver")
    client_ca = pki.make_ca("simptu-devstack-client-ca")
    pki.write_pair(client_ca, folder, "client-ca")
    admin = pki.issue(client_ca, "simptu-admin", organization="system:masters")
    pki.write_pair(admin, folder, "admin")
    pki.write_service_account_keys(folder)
    write_kubeconfig(ctx, kubeconfig_path(ctx), "admin")


def _ensure_kubelet_client(ctx: Context) -> None:
    """The client certificate kube-apiserver shows kubelets (a PKI made before it had none
    gets one)."""
    folder = pki_dir(ctx)
    if not (folder / "kubelet-client.crt").exists():
        client = pki.issue(pki.load_pair(folder, "client-ca"), KUBELET_CLIENT)
        pki.write_pair(client, folder, "kubelet-client")


def write_kubeconfig(ctx: Context, path: Path, stem: str) -> None:
    """A kubeconfig that authenticates with the client certificate `<stem>.crt` of the PKI."""
    folder = pki_dir(ctx)

    def b64(name: str) -> str:
        return base64.b64encode((folder / name).read_bytes()).decode()

    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "simptu-devstack",
        "clusters": [{"name": "simptu-devstack", "cluster": {
            "server": server_url(ctx), "certificate-authority-data": b64("ca.crt")}}],
        "users": [{"name": f"simptu-{stem}", "user": {
            "client-certificate-data": b64(f"{stem}.crt"),
            "client-key-data": b64(f"{stem}.key")}}],
        "contexts": [{"name": "simptu-devstack", "context": {
            "cluster": "simptu-devstack", "user": f"simptu-{stem}"}}],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)


def admin_client(ctx: Context) -> httpx.AsyncClient:
    """An HTTP client that authenticates as the admin user, by client certificate."""
    folder = pki_dir(ctx)
    tls = ssl.create_default_context(cafile=str(folder / "ca.crt"))
    tls.load_cert_chain(folder / "admin.crt", folder / "admin.key")
    return httpx.AsyncClient(base_url=server_url(ctx), timeout=5, verify=tls)


class KubeApiserver(Service):
    name = "kube-apiserver"
    needs = ("etcd",)

    def prepare(self, ctx: Context) -> None:
        _ensure_pki(ctx)
        _ensure_kubelet_client(ctx)

    def launch(self, ctx: Context) -> Launch:
        folder = pki_dir(ctx)
        s = ctx.settings
        return Launch(argv=[
            str(ctx.tool_dir(KUBE) / "bin" / "kube-apiserver"),
            f"--etcd-servers=http://{s.host}:{s.etcd_port}",
            f"--secure-port={s.kube_apiserver_port}", f"--bind-address={s.host}",
            f"--advertise-address={s.host}", f"--cert-dir={folder}",
            f"--tls-cert-file={folder / 'apiserver.crt'}",
            f"--tls-private-key-file={folder / 'apiserver.key'}",
            f"--client-ca-file={folder / 'client-ca.crt'}",
            # Kubelets get what their pods need (the Node authorizer, NodeRestriction); the
            # rest is RBAC.
            "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
            f"--kubelet-client-certificate={folder / 'kubelet-client.crt'}",
            f"--kubelet-client-key={folder / 'kubelet-client.key'}",
            # The node's address, not its name: a DNS lookup of the name would leave the machine.
            "--kubelet-preferred-address-types=InternalIP",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            # No kube-proxy routes ClusterIPs here: a webhook's (or an aggregated API's)
            # Service is reached at its endpoints' addresses instead.
            "--enable-aggregator-routing=true",
            f"--service-account-issuer={SA_ISSUER}",
            f"--service-account-key-file={folder / 'sa.pub'}",
            f"--service-account-signing-key-file={folder / 'sa.key'}",
            "--allow-privileged=true", "--profiling=false", "--v=1",
        ])

    def settings_key(self, ctx: Context) -> str:
        return " ".join(self.launch(ctx).argv)  # e.g. its authorization modes changed

    async def probe(self, ctx: Context) -> None:
        async with admin_client(ctx) as client:
            answer = await client.get("/readyz")
            # /readyz is public; the admin certificate must work too.
            whoami = await client.post("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                       json={"apiVersion": "authentication.k8s.io/v1",
                                             "kind": "SelfSubjectReview"})
        if answer.status_code != 200:
            raise NotReady(f"/readyz answered {answer.status_code}: {answer.text[-300:]}")
        if "system:masters" not in whoami.json().get("status", {}).get("userInfo", {}).get(
                "groups", []):
            raise NotReady(f"the admin certificate is not accepted: {whoami.text[:300]}")

    async def configure(self, ctx: Context) -> None:
        """Let kube-apiserver's kubelet client certificate reach the kubelets' API."""
        async with admin_client(ctx) as client:
            answer = await client.patch(
                "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/"
                f"{KUBELET_CLIENT_BINDING_NAME}",
                params={"fieldManager": "simptu-devstack", "force": "true"},
                headers={"Content-Type": "application/apply-patch+yaml"},
                content=json.dumps(KUBELET_CLIENT_BINDING))
        if answer.status_code not in (200, 201):
            raise NotReady(f"the kubelet client's binding: {answer.status_code} "
                           f"{answer.text[:300]}")

    def env(self, ctx: Context) -> dict[str, str]:
        bin_dir = ctx.tool_dir(KUBE) / "bin"
        return {"KUBECONFIG": str(kubeconfig_path(ctx)), "SIMPTU_KUBE_APISERVER": server_url(ctx),
                "SIMPTU_KUBECTL": str(bin_dir / "kubectl")}

    def endpoint(self, ctx: Context) -> str:
        return server_url(ctx)


class KubeControllerManager(Service):
    name = "kube-controller-manager"
    needs = ("kube-apiserver",)

    def launch(self, ctx: Context) -> Launch:
        folder = pki_dir(ctx)
        return Launch(argv=[
            str(ctx.tool_dir(KUBE) / "bin" / "kube-controller-manager"),
            f"--kubeconfig={kubeconfig_path(ctx)}",
            f"--authentication-kubeconfig={kubeconfig_path(ctx)}",
            f"--authorization-kubeconfig={kubeconfig_path(ctx)}",
            f"--bind-address={ctx.settings.host}", "--secure-port=0",
            f"--service-account-private-key-file={folder / 'sa.key'}",
            f"--root-ca-file={folder / 'ca.crt'}",
            f"--cluster-signing-cert-file={folder / 'client-ca.crt'}",
            f"--cluster-signing-key-file={folder / 'client-ca.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--leader-elect=false", "--use-service-account-credentials=false", "--v=1",
        ])

    async def probe(self, ctx: Context) -> None:
        """Its service-account controller has made the `default` account of `default`."""
        async with admin_client(ctx) as client:
            answer = await client.get("/api/v1/namespaces/default/serviceaccounts/default")
        if answer.status_code != 200:
            raise NotReady("the default ServiceAccount does not exist yet")
