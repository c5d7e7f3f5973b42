"""`down` stops exactly the processes the stack started, and a recycled pid is never ours."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from simptu.devstack.processes import Launch, ManagedProcess


def test_a_started_process_is_known_until_it_is_stopped(tmp_path: Path) -> None:
    proc = ManagedProcess("sleeper", tmp_path)
    pid = proc.start(Launch(argv=["sleep", "300"]))
    try:
        assert proc.pid() == pid
        assert os.getpgid(pid) == pid  # its own group, so its children stop with it
    finally:
        assert proc.stop(grace=5)
    assert proc.pid() is None
    assert not proc.pid_file.exists()
    assert not proc.stop()


def test_a_pid_file_whose_pid_now_belongs_to_another_process_is_ignored(tmp_path: Path) -> None:
    proc = ManagedProcess("ghost", tmp_path)
    # Our own pid, but with another start time: what a recycled pid looks like.
    proc.pid_file.write_text(json.dumps({"pid": os.getpid(), "start_time": "1", "argv": []}))
    assert proc.pid() is None
    assert not proc.stop()  # and nothing was signalled: this test process lives on


def test_output_goes_to_the_service_log(tmp_path: Path) -> None:
    proc = ManagedProcess("echo", tmp_path)
    proc.start(Launch(argv=["sh", "-c", "echo hello from the service; sleep 300"]))
    try:
        for _ in range(50):
            if "hello from the service" in proc.log_tail():
                break
            time.sleep(0.1)
        assert "hello from the service" in proc.log_tail()
    finally:
        proc.stop(grace=5)
