"""Keeping the kernel from giving the stack's ports to outgoing connections.

The stack's fixed ports lie in Linux's range for outgoing connections (32768-60999). When a
connection gets one as its source port (kube-apiserver alone opens dozens to etcd while
Keycloak starts), the service of that port cannot listen for as long as the connection lives.
`net.ipv4.ip_local_reserved_ports` takes ports out of that range; writing it needs root (or
CAP_NET_ADMIN), so where it cannot be written the stack relies on starting a failed service
again.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from simptu.devstack.settings import DevstackSettings

RESERVED_PORTS = Path("/proc/sys/net/ipv4/ip_local_reserved_ports")


def stack_ports(settings: DevstackSettings) -> set[int]:
    """Every port the stack listens on: the settings' `*_port`s, and OpenBao's cluster port
    (its API port + 1, OpenBao's default)."""
    ports = {value for name, value in settings.model_dump().items() if name.endswith("_port")}
    return ports | {settings.openbao_port + 1}


def parse_port_list(text: str) -> set[int]:
    """`1000,2000-2002` as {1000, 2000, 2001, 2002}."""
    ports: set[int] = set()
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        first, _, last = part.partition("-")
        ports.update(range(int(first), int(last or first) + 1))
    return ports


def reserve_ports(ports: Iterable[int], path: Path = RESERVED_PORTS) -> bool:
    """Add `ports` to the reserved ports (keeping those already there); False if the setting
    cannot be read or written here."""
    try:
        current = path.read_text().strip()
        missing = set(ports) - parse_port_list(current)
        if missing:
            path.write_text(",".join([current] * bool(current) + [str(p) for p in sorted(missing)]))
    except OSError:
        return False
    return True
