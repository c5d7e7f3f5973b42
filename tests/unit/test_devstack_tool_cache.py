"""Tools are cached by version and spec, and a build that breaks off leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from simptu.devstack.toolchain.cache import COMPLETE_MARKER, ensure_cached, spec_digest


def test_a_tool_is_built_once_and_then_reused(tmp_path: Path) -> None:
    builds: list[Path] = []

    def fill(staging: Path) -> None:
        builds.append(staging)
        (staging / "bin").mkdir()
        (staging / "bin" / "tool").write_text("#!/bin/sh\n")

    folder = tmp_path / "tool-1.0"
    assert ensure_cached(folder, fill) == folder
    assert ensure_cached(folder, fill) == folder
    assert len(builds) == 1
    assert (folder / "bin" / "tool").exists()
    assert (folder / COMPLETE_MARKER).exists()


def test_an_interrupted_build_is_not_mistaken_for_a_finished_one(tmp_path: Path) -> None:
    folder = tmp_path / "tool-1.0"

    def broken(staging: Path) -> None:
        (staging / "half").write_text("")
        raise RuntimeError("compiler crashed")

    with pytest.raises(RuntimeError, match="compiler crashed"):
        ensure_cached(folder, broken)
    assert not folder.exists()
    ensure_cached(folder, lambda staging: (staging / "whole").touch())
    assert sorted(p.name for p in folder.iterdir()) == [COMPLETE_MARKER, "whole"]


def test_editing_a_build_spec_changes_its_cache_key(tmp_path: Path) -> None:
    spec = tmp_path / "go.mod"
    spec.write_text("require k8s.io/kubernetes v1.34.4\n")
    before = spec_digest([spec])
    assert spec_digest([spec]) == before
    assert spec_digest([spec], params="-ldflags=-X version=v1") != before
    spec.write_text("require k8s.io/kubernetes v1.35.0\n")
    assert spec_digest([spec]) != before
