"""`up` restarts a running service started with other settings (its settings key), e.g. the
operator when SIMPTU_NODE changes or kube-apiserver when its flags do, and leaves one started
with the same settings running."""

from __future__ import annotations

from pathlib import Path

from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, Service
from simptu.devstack.settings import DevstackSettings
from simptu.devstack.stack import Stack


class Keyed(Service):
    name = "keyed"

    def __init__(self, key: str) -> None:
        self.key = key

    def launch(self, ctx: Context) -> Launch:
        return Launch(argv=["sleep", "300"])

    async def probe(self, ctx: Context) -> None:
        return None

    def settings_key(self, ctx: Context) -> str:
        return self.key


def _stack(tmp_path: Path, service: Service) -> Stack:
    settings = DevstackSettings(state_dir=tmp_path, tools_cache=tmp_path / "tools")
    stack = Stack(settings, services=(service,))
    stack.ensure_tools = lambda names=None: None  # type: ignore[method-assign]  # no tools needed
    return stack


def test_a_service_started_with_other_settings_is_restarted_once(tmp_path: Path) -> None:
    first = _stack(tmp_path, Keyed("node=0"))
    try:
        first.up()
        started = first.process(Keyed("node=0")).pid()
        assert started is not None
        first.up()  # same settings: left running
        assert first.process(Keyed("node=0")).pid() == started

        second = _stack(tmp_path, Keyed("node=1"))
        second.up()
        restarted = second.process(Keyed("node=1")).pid()
        assert restarted is not None
        assert restarted != started
        second.up()
        assert second.process(Keyed("node=1")).pid() == restarted
    finally:
        first.down()


class Other(Keyed):
    name = "other-kind"


def test_a_service_of_the_other_kind_of_stack_is_stopped(tmp_path: Path) -> None:
    kept, other = Keyed("k"), Other("k")
    both = _stack(tmp_path, kept)
    both.services = both.stoppable = (kept, other)  # e.g. the node's services and the worker
    try:
        both.up()
        assert both.process(other).pid() is not None
        narrower = _stack(tmp_path, kept)
        narrower.stoppable = (kept, other)  # what `down` would stop: both kinds
        narrower.up()  # e.g. SIMPTU_NODE switched
        assert narrower.process(other).pid() is None
        assert narrower.process(kept).pid() is not None
    finally:
        both.down()
