"""A service that cannot start is named, with the end of its log, instead of hanging `up`."""

from __future__ import annotations

from pathlib import Path

import pytest

from simptu.devstack.processes import Launch
from simptu.devstack.reserved_ports import parse_port_list, reserve_ports, stack_ports
from simptu.devstack.services.base import Context, NotReady, Service
from simptu.devstack.settings import DevstackSettings
from simptu.devstack.stack import START_ATTEMPTS, ServiceFailed, Stack


class Crashing(Service):
    name = "crashing"

    def launch(self, ctx: Context) -> Launch:
        return Launch(argv=["sh", "-c", "echo 'FATAL: port 55432 already in use'; exit 3"])

    async def probe(self, ctx: Context) -> None:
        raise NotReady("never")


class CrashingOnce(Service):
    """Exits at its first start, as a service whose port an outgoing connection held."""

    name = "crashing-once"

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def launch(self, ctx: Context) -> Launch:
        return Launch(argv=["sh", "-c", f"test -e {self.marker} || {{ touch {self.marker};"
                                        " echo 'Address already in use'; exit 1; }; sleep 300"])

    async def probe(self, ctx: Context) -> None:
        if not self.marker.exists():
            raise NotReady("not started yet")


class NeverReady(Service):
    name = "never-ready"

    def launch(self, ctx: Context) -> Launch:
        return Launch(argv=["sleep", "300"])

    async def probe(self, ctx: Context) -> None:
        raise NotReady("still warming up")


def _stack(tmp_path: Path, service: Service, timeout: float = 30) -> Stack:
    settings = DevstackSettings(state_dir=tmp_path, tools_cache=tmp_path / "tools",
                                ready_timeout=timeout)
    stack = Stack(settings, services=(service,))
    stack.ensure_tools = lambda names=None: None  # type: ignore[method-assign]  # no tools needed
    return stack


def test_a_service_whose_process_exits_is_named_with_its_log(tmp_path: Path) -> None:
    with pytest.raises(ServiceFailed) as failed:
        _stack(tmp_path, Crashing()).up()
    message = str(failed.value)
    assert message.startswith("crashing failed: its process exited")
    assert "FATAL: port 55432 already in use" in message
    starts = Stack(DevstackSettings(state_dir=tmp_path)).process(Crashing()).log_file
    assert starts.read_text().count("--- starting crashing") == START_ATTEMPTS


def test_a_process_that_exits_at_start_is_started_again(tmp_path: Path) -> None:
    service = CrashingOnce(tmp_path / "started-once")
    stack = _stack(tmp_path, service)
    try:
        stack.up()
        assert stack.process(service).pid() is not None
        log = stack.process(service).log_file.read_text()
        assert log.count("--- starting crashing-once") == 2
        assert "Address already in use" in log
    finally:
        stack.down()


def test_a_service_that_never_gets_ready_times_out_with_the_probe_s_last_word(
    tmp_path: Path,
) -> None:
    stack = _stack(tmp_path, NeverReady(), timeout=1)
    try:
        with pytest.raises(ServiceFailed, match="never-ready failed: not ready in time "
                                                r"\(NotReady: still warming up\)"):
            stack.up()
    finally:
        stack.down()
    assert stack.process(NeverReady()).pid() is None


def test_the_stack_s_ports_are_added_to_the_reserved_ones(tmp_path: Path) -> None:
    setting = tmp_path / "ip_local_reserved_ports"
    setting.write_text("1000,2000-2002\n")
    ports = stack_ports(DevstackSettings())
    assert {55432, 59092, 58090, 58201} <= ports  # OpenBao's cluster port too
    assert reserve_ports(ports, setting)
    assert parse_port_list(setting.read_text()) == {1000, 2000, 2001, 2002} | ports
    assert reserve_ports(ports, setting)  # again: nothing to add
    assert parse_port_list(setting.read_text()) == {1000, 2000, 2001, 2002} | ports
    assert not reserve_ports(ports, tmp_path / "absent" / "setting")
