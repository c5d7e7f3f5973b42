"""Every entrypoint answers --help with its usage and the settings it reads, and exits 0, with
no settings in the environment (as in a fresh container) and starting nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from simptu.operator.settings import OperatorSettings
from simptu.runtime.core.entrypoint import settings_lines

ENTRYPOINTS = ("simptu.runtime.api", "simptu.runtime.ws", "simptu.runtime.agent",
               "simptu.runtime.channels", "simptu.runtime.core.events", "simptu.operator",
               "simptu.runtime")


@pytest.mark.parametrize("module", ENTRYPOINTS)
def test_help_prints_usage_and_settings_and_exits_0(module: str) -> None:
    bare = {key: value for key, value in os.environ.items() if not key.startswith("SIMPTU_")}
    done = subprocess.run([sys.executable, "-m", module, "--help"], env=bare,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage: "), done.stdout[:300]
    assert "SIMPTU_DATABASE_URL (required)" in done.stdout


def test_settings_are_listed_with_their_defaults_and_secrets_hidden() -> None:
    lines = settings_lines(OperatorSettings)
    assert "  SIMPTU_OPERATOR_AGENT_IMAGE (default 'simptu/agent:0.1.0')" in lines
    assert "  SIMPTU_KEYCLOAK_ADMIN_PASSWORD (default <secret>)" in lines
    assert "  SIMPTU_REDIS_URL (required)" in lines
