"""Argo CD's health check for Tenant passes its own health_test.yaml (Argo CD's format and
layout, ready to contribute upstream), run by Debian's Lua 5.1 as Argo CD's gopher-lua would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.lua_health import Health, lua_literal, run_health

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
TENANT = ROOT / "examples/gitops/argocd/resource_customizations/simptu.io/Tenant"
CASES: list[dict[str, Any]] = yaml.safe_load((TENANT / "health_test.yaml").read_text())["tests"]
ARGO_STATUSES = {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}


@pytest.mark.parametrize("case", CASES, ids=[Path(c["inputPath"]).stem for c in CASES])
def test_each_testdata_tenant_gets_its_expected_health(case: dict[str, Any]) -> None:
    resource = yaml.safe_load((TENANT / case["inputPath"]).read_text())
    expected = Health(case["healthStatus"]["status"], case["healthStatus"]["message"])
    assert run_health(TENANT / "health.lua", resource) == expected


def test_every_testdata_file_is_in_the_health_test() -> None:
    listed = {c["inputPath"] for c in CASES}
    present = {f"testdata/{p.name}" for p in (TENANT / "testdata").glob("*.yaml")}
    assert present == listed


def test_the_cases_cover_every_status_a_tenant_can_have() -> None:
    statuses = {c["healthStatus"]["status"] for c in CASES}
    assert statuses == {"Healthy", "Progressing", "Degraded", "Suspended"}
    assert statuses <= ARGO_STATUSES


def test_a_resource_becomes_the_lua_table_argo_cd_would_pass() -> None:
    literal = lua_literal({"a": [1, "x\"y"], "b": None, "c": True, "d": "Zâmbet"})
    assert literal == '{["a"] = {1, "x\\034y"}, ["c"] = true, ["d"] = "Z\\195\\162mbet"}'
