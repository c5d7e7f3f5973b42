"""Running a long build step with its output in a log and a progress line every few seconds."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path


class BuildFailed(RuntimeError):
    """A tool could not be obtained; the message names it and ends with its log's tail."""


def run_logged(
    label: str, argv: list[str], log_path: Path, cwd: Path | None = None,
    env: dict[str, str] | None = None, every: float = 15.0,
) -> None:
    """Run `argv`, sending its output to `log_path` and printing how far it got."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    lines = 0
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        done = threading.Event()

        def report() -> None:
            while not done.wait(every):
                elapsed = int(time.monotonic() - started)
                print(f"    {label}: {elapsed}s, {lines} lines of output", flush=True)

        reporter = threading.Thread(target=report, daemon=True)
        reporter.start()
        for line in proc.stdout:
            log.write(line)
            lines += 1
        code = proc.wait()
        done.set()
    if code != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
        raise BuildFailed(f"{label} failed (exit {code}); full log: {log_path}\n{tail}")
    print(f"    {label}: done in {int(time.monotonic() - started)}s", flush=True)
