"""The key rotation command explains itself."""

from __future__ import annotations

import subprocess
import sys


def test_help_names_every_command_and_what_it_does() -> None:
    result = subprocess.run([sys.executable, "-m", "simptu.runtime.core.crypto", "--help"],
                            capture_output=True, text=True, check=True)
    for command in ("rotate-transit-key", "rotate-data-key", "reencrypt"):
        assert command in result.stdout
    job = subprocess.run([sys.executable, "-m", "simptu.runtime.core.crypto", "reencrypt",
                          "--help"], capture_output=True, text=True, check=True)
    assert "--batch-size" in job.stdout
    assert "safe to kill and run again" in " ".join(job.stdout.split())
