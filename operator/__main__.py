"""`python -m simptu.operator`: the Tenant operator, cluster-wide, with Kopf peering so that
only one replica reconciles at a time (`--standalone` for a single local process)."""

from __future__ import annotations

import os
import sys

import kopf

from simptu.operator import main  # noqa: F401  # registers the handlers


def run() -> None:
    standalone = "--standalone" in sys.argv[1:]
    # Among peers the highest priority reconciles; the others pause until it is gone.
    priority = int(os.environ.get("SIMPTU_OPERATOR_PRIORITY", "0"))
    # JSON logs; Kopf adds the object (the tenant) to every record of a handler.
    kopf.configure(verbose=True, log_format=kopf.LogFormat.JSON, log_refkey="tenant")
    kopf.run(clusterwide=True, standalone=standalone, priority=priority,
             peering_name=None if standalone else "simptu-operator")


if __name__ == "__main__":
    run()
