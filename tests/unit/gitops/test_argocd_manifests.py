"""The Argo CD examples in examples/gitops/ are what Argo CD expects, as far as can be told
without Argo CD: they parse, name the right kinds, point at paths that exist in this repository,
set only values the chart has, and argocd-cm carries exactly the tested health.lua."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
GITOPS = ROOT / "examples/gitops"
HEALTH_LUA = GITOPS / "argocd/resource_customizations/simptu.io/Tenant/health.lua"


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def _application(name: str) -> dict[str, Any]:
    app = _load(GITOPS / "argocd" / name)
    assert (app["apiVersion"], app["kind"]) == ("argoproj.io/v1alpha1", "Application")
    assert app["spec"]["destination"]["server"] == "https://kubernetes.default.svc"
    assert app["spec"]["source"]["repoURL"].startswith("https://")
    return app


def _keys(values: Any, prefix: str = "") -> set[str]:
    if not isinstance(values, dict) or not values:
        return {prefix}
    found: set[str] = set()
    for key, value in values.items():
        found |= _keys(value, f"{prefix}.{key}" if prefix else str(key))
    return found


def test_argocd_cm_carries_exactly_the_tested_health_check() -> None:
    config_map = _load(GITOPS / "argocd/argocd-cm-tenant-health.yaml")
    assert (config_map["kind"], config_map["metadata"]["name"]) == ("ConfigMap", "argocd-cm")
    embedded = config_map["data"]["resource.customizations.health.simptu.io_Tenant"]
    assert embedded == HEALTH_LUA.read_text()


def test_the_tenants_application_syncs_the_example_tenants_themselves() -> None:
    source = _application("tenants.yaml")["spec"]["source"]
    folder = ROOT / source["path"]
    assert folder == ROOT / "examples/tenants"  # the examples, not a copy that could drift
    tenants = [_load(path) for path in sorted(folder.glob(source["directory"]["include"]))]
    assert len(tenants) == 3
    assert {(t["apiVersion"], t["kind"]) for t in tenants} == {("simptu.io/v1alpha1", "Tenant")}


def test_removing_a_tenant_from_git_does_not_delete_it() -> None:
    assert _application("tenants.yaml")["spec"]["syncPolicy"]["automated"]["prune"] is False


def test_the_platform_application_installs_the_chart_with_values_it_has() -> None:
    source = _application("platform.yaml")["spec"]["source"]
    chart = ROOT / source["path"]
    meta = _load(chart / "Chart.yaml")
    assert meta["name"] == "simptu"
    assert source["repoURL"].removesuffix(".git") in meta["sources"]  # this repository
    chart_keys = _keys(_load(chart / "values.yaml"))
    for value_file in source["helm"]["valueFiles"]:
        path = (chart / value_file).resolve()
        assert path.is_relative_to(ROOT), f"{value_file}: Argo CD reads only inside the repository"
        unknown = {key for key in _keys(_load(path))
                   if not any(known == key or known.startswith(f"{key}.") or
                              key.startswith(f"{known}.") for known in chart_keys)}
        assert unknown == set(), f"{value_file} sets values the chart does not have"


def test_the_platform_values_take_every_credential_from_an_existing_secret() -> None:
    values = _load(GITOPS / "platform-values.yaml")
    for service in ("postgres", "redis", "keycloak", "platformSecrets"):
        assert values[service]["existingSecret"], service
    assert values["kafka"]["sasl"]["existingSecret"]
    assert all(values["kafka"]["sasl"]["runtimeSecrets"].values())
    assert values["openbao"]["auth"] == "kubernetes"  # no OpenBao token anywhere
    text = (GITOPS / "platform-values.yaml").read_text()
    assert "password:" not in text
    assert "token:" not in text
