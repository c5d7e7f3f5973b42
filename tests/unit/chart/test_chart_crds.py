"""The chart's CRDs are the repository's crds/: the very files `make up` applies (not a copy that
could drift), and all of them but the Strimzi mirrors, which belong to Strimzi's own install."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
CHART_CRDS = REPO / "charts" / "simptu" / "crds"
CRDS = REPO / "crds"


def test_the_charts_crds_are_the_files_the_stack_applies() -> None:
    # devstack/services/operator.py applies crds/ (its top level, not crds/strimzi/).
    assert sorted(p.name for p in CHART_CRDS.iterdir()) == sorted(
        p.name for p in CRDS.glob("*.yaml"))
    for chart_file in CHART_CRDS.iterdir():
        assert chart_file.is_symlink(), f"{chart_file} is a copy; link it to crds/"
        assert chart_file.resolve() == (CRDS / chart_file.name).resolve()
        assert chart_file.read_bytes() == (CRDS / chart_file.name).read_bytes()


def test_the_chart_installs_the_tenant_and_kopf_peering_crds_and_no_strimzi_crd() -> None:
    names = {yaml.safe_load(path.read_text())["metadata"]["name"]
             for path in CHART_CRDS.iterdir()}
    assert names == {"tenants.simptu.io", "clusterkopfpeerings.kopf.dev"}


def test_the_install_notes_say_uninstall_keeps_the_crds_and_the_tenants_data() -> None:
    notes = " ".join((REPO / "charts" / "simptu" / "templates" / "NOTES.txt").read_text().split())
    assert "helm uninstall" in notes
    assert "keeps the CRDs" in notes
    assert "the tenants' data" in notes
