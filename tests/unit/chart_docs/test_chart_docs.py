"""The chart's values table is generated from values.yaml's `# --` comments (helm-docs style):
every value is documented, and a README.md that differs from what the generator writes fails."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from simptu.devstack import chart_docs

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = Path(__file__).parent / "fixture"


def test_each_documented_value_is_a_row_with_its_type_and_default() -> None:
    rows = {v.key: v for v in chart_docs.document((FIXTURE / "values.yaml").read_text())}
    assert list(rows) == ["replicas", "image.repository", "image.tag", "labels",
                          "podSecurityContext", "env", "config", "service.port",
                          "service.annotated.example/key.enabled"]
    assert rows["replicas"] == chart_docs.Value("replicas", "int", "`2`", "How many pods.")
    assert rows["image.repository"].description == \
        "The image's repository, continued on a second line."
    assert (rows["image.tag"].type, rows["image.tag"].default) == ("string", "`null`")
    assert rows["podSecurityContext"].default == '`{"runAsNonRoot": true, "runAsUser": 10001}`'
    assert (rows["env"].type, rows["env"].default) == ("list", "none")
    assert rows["config"].type == "string"


def test_a_value_without_a_description_is_refused_with_its_line() -> None:
    text = "# -- Documented.\na: 1\nnested:\n  b: 2\n"
    with pytest.raises(chart_docs.ChartDocsError, match=r"line 4: nested\.b"):
        chart_docs.document(text)


def test_the_table_is_replaced_and_the_hand_written_text_kept(tmp_path: Path) -> None:
    chart = tmp_path / "fixture"
    shutil.copytree(FIXTURE, chart)
    assert chart_docs.main(["--check", str(chart)]) == 1  # no README.md yet
    assert chart_docs.main([str(chart)]) == 0
    readme = (chart / "README.md").read_text()
    assert readme.startswith("# fixture\n\nA chart that only exists")
    assert "| `service.port` | int | `8080` | The Service's port. |" in readme
    (chart / "README.md").write_text("# Install\nhelm install ...\n" + readme[readme.index(
        chart_docs.START):] + "\n## Upgrading\nby hand\n")
    (chart / "values.yaml").write_text((chart / "values.yaml").read_text().replace(
        "port: 8080", "port: 9090"))
    assert chart_docs.main(["--check", str(chart)]) == 1  # stale: values.yaml changed
    assert chart_docs.main([str(chart)]) == 0
    updated = (chart / "README.md").read_text()
    assert updated.startswith("# Install\nhelm install ...\n")
    assert updated.endswith("## Upgrading\nby hand\n")
    assert "| `service.port` | int | `9090` |" in updated
    assert chart_docs.main(["--check", str(chart)]) == 0


def test_the_simptu_charts_readme_documents_its_current_values() -> None:
    chart = ROOT / "charts/simptu"
    assert (chart / "values.yaml").exists(), "charts/simptu/values.yaml is missing"
    assert chart_docs.main(["--check", str(chart)]) == 0, \
        "run: python -m simptu.devstack.chart_docs charts/simptu"
