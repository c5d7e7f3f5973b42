"""Every setting is in README.md's table, made from the settings models (a setting added to a
model without regenerating the table fails here), says what it is for, and nothing reads the
environment outside the settings models."""

from __future__ import annotations

import re
from pathlib import Path

from simptu.devstack import settings_table
from simptu.devstack.settings import REPO_ROOT

# Where code still reads a variable by hand, and why (the rest reads its settings model).
READS_ENVIRONMENT = {
    # Kubernetes' own conventions (in a pod or not, the kubeconfig), when the operator starts.
    "operator/platform.py",
}


def test_the_readme_table_is_the_one_the_settings_models_make() -> None:
    readme = settings_table.README.read_text()
    assert settings_table.with_table(readme) == readme, (
        "README.md's settings table is out of date: "
        "python -m simptu.devstack.settings_table --write")


def test_every_setting_of_every_component_is_a_row() -> None:
    listed = {row[0] for row in settings_table.rows()}
    for _, model in settings_table.COMPONENTS:
        for name in model.model_fields:
            assert f"SIMPTU_{name.upper()}" in listed


def test_every_setting_says_what_it_is_for() -> None:
    unexplained = [name for name, _, _, what in settings_table.rows() if not what]
    assert unexplained == []


def test_every_variable_follows_the_one_scheme() -> None:
    assert all(re.fullmatch(r"SIMPTU_[A-Z0-9_]+", name) for name, *_ in settings_table.rows())


def test_no_module_reads_the_environment_but_the_settings_models() -> None:
    reading = re.compile(r"os\.environ|getenv\(")
    found = {str(path.relative_to(REPO_ROOT)) for folder in ("runtime", "operator")
             for path in Path(REPO_ROOT, folder).rglob("*.py")
             if reading.search(path.read_text())}
    assert found <= READS_ENVIRONMENT, found - READS_ENVIRONMENT
