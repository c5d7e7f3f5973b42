"""The chart's tests render it with the stack's own helm and check the result with the stack's
kubectl and API server."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from simptu.devstack.envfile import StackEnv
from tests.integration.operator.conftest import Kubectl

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "charts" / "simptu"
HERE = Path(__file__).resolve().parent
MINIMAL = HERE / "values-minimal.yaml"
EVERYTHING = HERE / "values-everything.yaml"
GITOPS_VALUES = REPO / "examples" / "gitops" / "platform-values.yaml"


@dataclass(frozen=True)
class Helm:
    """The stack's helm; `template` returns the rendered objects."""

    binary: str
    kubeconfig: str

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([self.binary, "--kubeconfig", self.kubeconfig, *args],
                              capture_output=True, text=True, timeout=120, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done

    def template(self, *values: Path, namespace: str = "simptu",
                 sets: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        args = ["template", "simptu", str(CHART), "--namespace", namespace]
        for path in values:
            args += ["-f", str(path)]
        for assignment in sets:
            args += ["--set", assignment]
        return [doc for doc in yaml.safe_load_all(self.run(*args).stdout) if doc]


@pytest.fixture(scope="session")
def helm(stack: StackEnv) -> Helm:
    return Helm(stack["SIMPTU_HELM"], stack.kubeconfig)


@pytest.fixture(scope="session")
def kubectl(stack: StackEnv) -> Kubectl:
    return Kubectl(stack["SIMPTU_KUBECTL"], stack.kubeconfig)


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[dict[str, Any]], kind: str, suffix: str) -> dict[str, Any]:
    """The one object of `kind` whose name ends with `suffix`."""
    found = [o for o in by_kind(objects, kind) if o["metadata"]["name"].endswith(suffix)]
    assert len(found) == 1, f"{kind} *{suffix}: {[o['metadata']['name'] for o in found]}"
    return found[0]


@pytest.fixture
def chart_namespace(kubectl: Kubectl, unique: str) -> Iterator[str]:
    """A namespace of this test's own for server-side dry runs, deleted afterwards."""
    kubectl.run("create", "namespace", unique)
    yield unique
    kubectl.run("delete", "namespace", unique, "--wait=false", check=False)
