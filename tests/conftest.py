"""Fixtures shared by every test: markers by folder, the running local stack, isolated names.

Integration tests ask for `stack`: the session starts the local stack if it is not running
(the same idempotent `up` as `make up`) and reads the env file it writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from simptu.devstack.envfile import StackEnv
from simptu.devstack.stack import Stack

TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test is marked by its folder: tests/unit -> unit, tests/integration -> integration."""
    for item in items:
        kind = Path(str(item.path)).relative_to(TESTS).parts[0]
        if kind in ("unit", "integration", "e2e"):
            item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(scope="session")
def local_stack() -> Stack:
    stack = Stack()
    stack.up()
    return stack


@pytest.fixture(scope="session")
def stack(local_stack: Stack) -> StackEnv:
    return StackEnv.load(local_stack.ctx.settings.env_file)


@pytest.fixture
def unique() -> Iterator[str]:
    """A short name unique to this test, valid as a schema, topic, namespace or realm name."""
    return f"t{uuid.uuid4().hex[:10]}"
