"""Fixtures for the operator's tests: the CRDs installed in the local kube-apiserver, kubectl run
the way a platform operator runs it, and every Tenant a test creates removed afterwards.

The CRDs stay installed after the session: `kubectl apply` is idempotent, and other tests (and
the operator under `make up`) rely on them.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from simptu.devstack.envfile import StackEnv

REPO = Path(__file__).resolve().parents[3]
CRDS = REPO / "crds"
STRIMZI_CRDS = CRDS / "strimzi"
EXAMPLES = REPO / "examples" / "tenants"

GROUP, VERSION, PLURAL = "simptu.io", "v1alpha1", "tenants"

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Kubectl:
    """The stack's own kubectl, logged in as its admin; returns what it printed."""

    binary: str
    kubeconfig: str

    def run(self, *args: str, stdin: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([self.binary, "--kubeconfig", self.kubeconfig, *args],
                              input=stdin, capture_output=True, text=True, timeout=120,
                              check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{done.stderr}")
        return done

    def apply(self, manifest: Manifest, *args: str,
              check: bool = True) -> subprocess.CompletedProcess[str]:
        """`kubectl apply -f -` of one object, as a user would apply a file."""
        return self.run("apply", "-f", "-", *args, stdin=json.dumps(manifest), check=check)


def install(kubectl: Kubectl, folder: Path, *crds: str) -> None:
    """Apply every CRD in `folder` (not its subfolders) and wait until each is Established."""
    kubectl.run("apply", "-f", str(folder))
    kubectl.run("wait", "--for=condition=Established", "--timeout=60s",
                *(f"crd/{name}" for name in crds))


@pytest.fixture(scope="session")
def kubectl(stack: StackEnv) -> Kubectl:
    return Kubectl(stack["SIMPTU_KUBECTL"], stack.kubeconfig)


@pytest.fixture(scope="session")
def tenant_crd(kubectl: Kubectl) -> str:
    """The Tenant CRD, installed from crds/ exactly as the README says; its name."""
    install(kubectl, CRDS, "tenants.simptu.io")
    return "tenants.simptu.io"


@pytest.fixture(scope="session")
def strimzi_crds(kubectl: Kubectl) -> tuple[str, ...]:
    """The Strimzi mirror CRDs from crds/strimzi/ (this stack has no Strimzi); their names."""
    names = ("kafkatopics.kafka.strimzi.io", "kafkausers.kafka.strimzi.io")
    install(kubectl, STRIMZI_CRDS, *names)
    return names


@dataclass
class Tenants:
    """Applies Tenants with kubectl, reads them back with the API client, deletes them after."""

    kubectl: Kubectl
    api: k8s.CustomObjectsApi
    names: set[str] = field(default_factory=set)

    def apply(self, manifest: Manifest, check: bool = True) -> subprocess.CompletedProcess[str]:
        # Remembered before applying: a Tenant wrongly accepted is cleaned up too.
        self.names.add(manifest["metadata"]["name"])
        return self.kubectl.apply(manifest, check=check)

    def get(self, name: str) -> Manifest:
        return cast(Manifest, self.api.get_cluster_custom_object(GROUP, VERSION, PLURAL, name))

    def patch_status(self, name: str, status: Manifest) -> Manifest:
        """Write status the way the operator will: through the status subresource."""
        return cast(Manifest, self.api.patch_cluster_custom_object_status(
            GROUP, VERSION, PLURAL, name, {"status": status}))

    def delete_all(self) -> None:
        """Delete every Tenant applied, with policy Shred whatever it said: a retained
        schema, realm, topics and key would pile up in the stack run after run (and a Keycloak
        with hundreds of realms slows down)."""
        for name in self.names:
            try:
                self.api.patch_cluster_custom_object(
                    GROUP, VERSION, PLURAL, name, {"spec": {"deletionPolicy": "Shred"}})
                self.api.delete_cluster_custom_object(GROUP, VERSION, PLURAL, name)
            except ApiException as error:
                if error.status != 404:  # refused when applied, or deleted by the test
                    raise


@pytest.fixture
def tenants(tenant_crd: str, kubectl: Kubectl, kube: k8s.ApiClient) -> Iterator[Tenants]:
    made = Tenants(kubectl, k8s.CustomObjectsApi(kube))
    yield made
    made.delete_all()
