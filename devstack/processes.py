"""Starting services as detached processes and stopping exactly those, by pid.

A pid file records the pid and the kernel's start time of the process, so a recycled pid
is never mistaken for ours and `down` never signals a stranger.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Launch:
    """How to start one service's process."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    user: str | None = None  # run as this user (PostgreSQL refuses to run as root)


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; fields after it are split after ')'.
    return stat.rsplit(")", 1)[1].split()[19]


class ManagedProcess:
    """One service's process, known by its pid file and writing to its log file."""

    def __init__(self, name: str, run_dir: Path) -> None:
        self.name = name
        self.pid_file = run_dir / f"{name}.pid"
        self.log_file = run_dir / f"{name}.log"

    def pid(self) -> int | None:
        """The pid if the process we started is still running, else None."""
        try:
            record = json.loads(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        pid = int(record["pid"])
        if _start_time(pid) != record["start_time"] or _is_zombie(pid):
            return None
        return pid

    def start(self, launch: Launch) -> int:
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            log.write(f"\n--- starting {self.name}: {' '.join(launch.argv)}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                launch.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=launch.cwd,
                env={**os.environ, **launch.env},
                user=launch.user,
                group=_primary_group(launch.user),
                start_new_session=True,  # own process group: `down` stops its children too
            )
        record = {"pid": proc.pid, "start_time": _start_time(proc.pid), "argv": launch.argv}
        self.pid_file.write_text(json.dumps(record))
        return proc.pid

    def stop(self, grace: float = 30.0) -> bool:
        """SIGTERM the process group, SIGKILL after `grace` seconds. True if it was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        if self.pid() is not None:
            _signal_group(pid, signal.SIGKILL)
            while self.pid() is not None:
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _is_zombie(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _primary_group(user: str | None) -> int | None:
    if user is None:
        return None
    import pwd

    return pwd.getpwnam(user).pw_gid
