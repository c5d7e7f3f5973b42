"""The node's tests run against a stack started with its node (SIMPTU_NODE=1, opt-in until it
is `make up`'s default); without it there is no node to test, so they are not collected."""

from __future__ import annotations

from simptu.devstack.settings import DevstackSettings

collect_ignore_glob = [] if DevstackSettings().node else ["test_*.py"]
