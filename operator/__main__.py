"""`python -m simptu.operator`: the Tenant operator, cluster-wide, with Kopf peering so that
only one replica reconciles at a time (`--standalone` for a single local process)."""

from __future__ import annotations

import sys

import kopf

from simptu.operator import main  # noqa: F401  # registers the handlers


def run() -> None:
    standalone = "--standalone" in sys.argv[1:]
    kopf.run(clusterwide=True, standalone=standalone,
             peering_name=None if standalone else "simptu-operator")


if __name__ == "__main__":
    run()
