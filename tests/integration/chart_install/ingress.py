"""Traefik (devstack's toolchain builds it from the Go module proxy) as the ingress controller of
a chart release on the local node: a process on loopback watching the release's namespace for
Ingresses of its own IngressClass, forwarding to the Services' endpoints (the pods' node
address and ports; no kube-proxy here). Clients send `Host: <slug>.<baseDomain>` to its port."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from simptu.devstack.settings import DevstackSettings
from simptu.devstack.toolchain.tools import TRAEFIK
from tests.ports import free_port

from .release import POLL, LocalRelease

CONTROLLER = "traefik.io/ingress-controller"  # the IngressClass controller traefik serves


@dataclass
class IngressController:
    """One traefik process for one release, with its IngressClass."""

    release: LocalRelease
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return Path(tempfile.gettempdir()) / f"simptu-traefik-{self.release.name}.log"

    def argv(self) -> list[str]:
        binary = TRAEFIK.ensure(DevstackSettings().tools_cache) / "bin" / "traefik"
        return [
            str(binary), "--log.level=INFO", "--providers.kubernetesIngress=true",
            # Loopback and the node only: no update check, no usage report.
            "--global.checkNewVersion=false", "--global.sendAnonymousUsage=false",
            f"--providers.kubernetesIngress.namespaces={self.release.namespace}",
            f"--providers.kubernetesIngress.ingressClass={self.release.ingress_class}",
            f"--entryPoints.web.address=127.0.0.1:{self.port}",
            # The chat's WebSocket lives as long as the page: no read deadline on it (traefik's
            # default is 60 s).
            "--entryPoints.web.transport.respondingTimeouts.readTimeout=0",
        ]

    def start(self, deadline: float) -> None:
        """Its IngressClass, then traefik (on the stack's kubeconfig, as kubectl); returns once
        the release's API answers through it."""
        self.release.kubectl("apply", "-f", "-", stdin=json.dumps({
            "apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": self.release.ingress_class,
                         "labels": {"app.kubernetes.io/instance": self.release.name}},
            "spec": {"controller": CONTROLLER}}))
        env = {**os.environ, "KUBECONFIG": self.release.stack.kubeconfig}
        for variable in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
            env.pop(variable, None)  # else traefik takes itself for a pod
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT,
                                            env=env)
        self.wait_routed(deadline)

    def wait_routed(self, deadline: float) -> None:
        """Until the platform host's /readyz answers 200 through traefik (404 while traefik
        has no route yet, 502/503 while it has no endpoint)."""
        host = self.release.platform_host
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"traefik exited {self.process.returncode}:\n{self.tail()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/readyz", headers={"Host": host},
                             timeout=5).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"no route to {host} through traefik:\n{self.tail()}")
            time.sleep(POLL)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.release.kubectl("delete", "ingressclass", self.release.ingress_class,
                             "--ignore-not-found")
        self.log.unlink(missing_ok=True)
