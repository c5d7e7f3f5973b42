"""The chart's install runs on the stack's node (`make up`'s default); a stack started with
SIMPTU_NODE=0 runs no pods, so these tests are not collected there."""

from __future__ import annotations

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings

_SETTINGS = DevstackSettings()
_NODE = (StackEnv.load(_SETTINGS.env_file).node if _SETTINGS.env_file.exists()
         else _SETTINGS.node)
collect_ignore_glob = [] if _NODE else ["test_*.py"]
