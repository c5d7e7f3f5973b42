"""The chart's install runs on the stack's node (`make up`'s default); a stack started with
SIMPTU_NODE=0 runs no pods, so these tests are not collected there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings

from .release import LocalRelease

_SETTINGS = DevstackSettings()
_NODE = (StackEnv.load(_SETTINGS.env_file).node if _SETTINGS.env_file.exists()
         else _SETTINGS.node)
collect_ignore_glob = [] if _NODE else ["test_*.py"]

INSTALL_WAIT = 300.0  # seconds `helm install` may take on a loaded 2-core machine; not a goal


@pytest.fixture(scope="module")
def release(stack: StackEnv) -> Iterator[LocalRelease]:
    """A release of the chart of the test module's own, installed once; everything it made is
    removed afterwards, whatever failed."""
    made = LocalRelease(stack)
    try:
        made.install(timeout=INSTALL_WAIT)
        yield made
    finally:
        made.remove()
