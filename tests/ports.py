"""A free loopback port for a process a test starts. Fixed ports in 32768-60999 (Linux's range
for outgoing connections) collide now and then with the source port of some connection on the
machine, and the process then cannot listen."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
