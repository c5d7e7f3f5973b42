"""The distribution ships every package, under `simptu.`, and no folder shadows the stdlib."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _config() -> dict[str, object]:
    setuptools: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "tool"]["setuptools"]
    return setuptools


def test_every_folder_with_code_sql_or_policies_is_a_listed_package() -> None:
    package_dir = _config()["package-dir"]
    assert isinstance(package_dir, dict)
    found = set()
    for import_name, folder in package_dir.items():
        base = ROOT / folder
        for path in [base, *base.rglob("*")] if base.exists() else []:
            kinds = ("py", "sql", "hcl")
            has_code = path.is_dir() and any(any(path.glob(f"*.{ext}")) for ext in kinds)
            if has_code and "__pycache__" not in path.parts:
                relative = path.relative_to(base).parts
                found.add(".".join((import_name, *relative)))
    listed = set(_config()["packages"])  # type: ignore[call-overload]
    assert found - listed == set(), "add these to [tool.setuptools] packages"
    assert listed - found == set(), "these listed packages have no files"


def test_the_repository_root_does_not_shadow_the_standard_library() -> None:
    probe = "import operator, sys; print(operator.__file__)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip().endswith("operator.py")
    assert str(ROOT) not in result.stdout  # operator/ is `simptu.operator`, never `operator`
